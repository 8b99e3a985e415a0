/*
 * The progress bar of an import / export job page (templates/kernel/job_center.html, B-5, B-6).
 *
 * While the job runs, it asks the job's status URL (GET, JSON) every 1.5 s, moves the bar and the
 * counters, and reloads the page once the job has finished, so the result (rows written, every bad
 * row, the download) comes from the server. No inline script and no eval: the CSP allows only this file.
 */
(function () {
    "use strict";

    function start(box) {
        var url = box.getAttribute("data-status-url");
        var bar = document.getElementById("job-progress-bar");
        var text = document.getElementById("job-progress-text");
        var rows = document.getElementById("job-rows");
        var status = document.getElementById("job-status");
        if (!url || box.getAttribute("data-finished") === "1") {
            return;
        }
        function poll() {
            fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
                .then(function (response) {
                    if (!response.ok) {
                        throw new Error(String(response.status));
                    }
                    return response.json();
                })
                .then(function (data) {
                    var percent = Math.max(0, Math.min(100, data.progress || 0));
                    if (bar) {
                        bar.style.width = percent + "%";
                        bar.parentNode.setAttribute("aria-valuenow", String(percent));
                    }
                    if (text) {
                        text.textContent = percent + "%";
                    }
                    if (rows) {
                        rows.textContent = String(data.rows);
                    }
                    if (status) {
                        status.textContent = data.status_label;
                    }
                    if (data.finished) {
                        window.location.reload();
                    } else {
                        window.setTimeout(poll, 1500);
                    }
                })
                .catch(function () {
                    window.setTimeout(poll, 5000);
                });
        }
        window.setTimeout(poll, 1000);
    }

    document.addEventListener("DOMContentLoaded", function () {
        var box = document.getElementById("job-progress");
        if (box) {
            start(box);
        }
    });
})();
