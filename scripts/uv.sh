# Sourced by the other scripts: `ensure_uv` leaves the uv command in the array UV, installing uv
# from PyPI with pip when it is not there yet (uv ships as a wheel; nothing else is downloaded).

# uv trusts the system's certificate store (as pip and curl do here), not only its bundled roots.
export UV_NATIVE_TLS="${UV_NATIVE_TLS:-1}"
# uv must never download an interpreter (these machines have Python 3.11 and no other network).
export UV_PYTHON_DOWNLOADS=never

ensure_uv() {
  if command -v uv >/dev/null 2>&1; then
    UV=(uv)
    return
  fi
  local py
  py="$(command -v python3.11 || command -v python3)"
  if ! "$py" -m uv --version >/dev/null 2>&1; then
    echo "setup: uv not found; installing it with pip ..." >&2
    if ! "$py" -m pip --version >/dev/null 2>&1; then
      echo "setup: pip is missing too: apt-get install python3-pip (or install uv another way)." >&2
      return 1
    fi
    # Debian's own Python refuses system-wide pip installs (PEP 668): fall back to the user site.
    "$py" -m pip install --quiet uv 2>/dev/null \
      || "$py" -m pip install --quiet --user --break-system-packages uv
  fi
  if command -v uv >/dev/null 2>&1; then
    UV=(uv)
  elif [ -x "$HOME/.local/bin/uv" ]; then
    UV=("$HOME/.local/bin/uv")
  else
    UV=("$py" -m uv)
  fi
}
