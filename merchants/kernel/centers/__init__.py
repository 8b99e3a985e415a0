"""The import center and the download center (B-5, B-6): background jobs for large files.

models.py   ImportJob / ExportJob (merchants app label), scoped by shop like every shop row
exports.py  the export types apps register, and the streaming CSV / XLSX writers
streaming.py  an upload read as a stream of small Datasets (never one tablib Dataset for a large file)
imports.py  the background import: validate and stage in chunks outside the write lock, then one write
runner.py   running one job (idempotent: a second run of the same job does nothing)
tasks.py    the Celery tasks and the daily cleanup of expired files
"""
