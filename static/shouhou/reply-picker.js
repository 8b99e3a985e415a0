/*
 * The insert-template control (话术, SPEC T-6) of templates/shouhou/reply_picker.html.
 *
 * Choosing a template asks the workbench for it, filled from the page's object (GET, JSON). A template
 * without placeholders goes straight into the text field; otherwise the control shows each placeholder
 * with what the object knows, the user completes or corrects them, and "insert" asks again with those
 * values. Errors (a required value missing) come from the server, in the user's language.
 * No inline script and no eval: the CSP allows only this file.
 */
(function () {
    "use strict";

    function insertText(area, text) {
        var start = typeof area.selectionStart === "number" ? area.selectionStart : area.value.length;
        var end = typeof area.selectionEnd === "number" ? area.selectionEnd : start;
        var before = area.value.slice(0, start);
        var separator = before && before.slice(-1) !== "\n" ? "\n" : "";
        area.setRangeText(separator + text, start, end, "end");
        area.dispatchEvent(new Event("input", { bubbles: true }));
        area.focus();
    }

    function setup(root) {
        if (root.dataset.replyReady) {
            return;
        }
        root.dataset.replyReady = "1";
        var select = root.querySelector("[data-reply-select]");
        var panel = root.querySelector("[data-reply-panel]");
        var error = root.querySelector("[data-reply-error]");
        var fields = root.querySelector("[data-reply-values]");
        var button = root.querySelector("[data-reply-insert]");
        var area = document.getElementById(root.dataset.target);
        if (!select || !panel || !area) {
            return;
        }

        function showError(message) {
            error.textContent = message || "";
            error.hidden = !message;
        }

        function reset() {
            panel.hidden = true;
            showError("");
            fields.replaceChildren();
            select.value = "";
        }

        function request(values) {
            var params = new URLSearchParams({
                template: select.value,
                source: root.dataset.source,
                id: root.dataset.object,
            });
            Object.keys(values || {}).forEach(function (name) {
                params.append("v_" + name, values[name]);
            });
            return fetch(root.dataset.url + "?" + params.toString(), {
                credentials: "same-origin",
                headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
            }).then(function (response) {
                var type = response.headers.get("Content-Type") || "";
                if (type.indexOf("application/json") === -1) {
                    throw new Error(root.dataset.failed);
                }
                return response.json();
            });
        }

        function buildFields(placeholders) {
            fields.replaceChildren();
            placeholders.forEach(function (item) {
                var id = root.dataset.target + "-reply-" + item.name;
                var wrapper = document.createElement("div");
                wrapper.className = "flex flex-col gap-1";
                var label = document.createElement("label");
                label.htmlFor = id;
                label.className = "font-medium text-font-important-light dark:text-font-important-dark";
                label.textContent = item.label + (item.required ? " *" : "");
                if (item.required) {
                    label.title = root.dataset.required;
                }
                var input = document.createElement("input");
                input.type = "text";
                input.id = id;
                input.maxLength = 100;
                input.autocomplete = "off";
                input.value = item.value || "";
                input.dataset.replyValue = item.name;
                input.className =
                    "border border-base-200 bg-white px-3 py-2 rounded-default shadow-xs dark:bg-base-900 dark:border-base-700";
                wrapper.append(label, input);
                fields.append(wrapper);
            });
        }

        function typedValues() {
            var values = {};
            fields.querySelectorAll("[data-reply-value]").forEach(function (input) {
                values[input.dataset.replyValue] = input.value;
            });
            return values;
        }

        select.addEventListener("change", function () {
            if (!select.value) {
                reset();
                return;
            }
            showError("");
            request({})
                .then(function (data) {
                    var placeholders = data.placeholders || [];
                    if (data.ok && placeholders.length === 0) {
                        insertText(area, data.text);
                        reset();
                        return;
                    }
                    buildFields(placeholders);
                    panel.hidden = false;
                    showError(data.ok ? "" : data.error);
                })
                .catch(function (failure) {
                    panel.hidden = false;
                    showError(failure.message || root.dataset.failed);
                });
        });

        function insert() {
            request(typedValues())
                .then(function (data) {
                    if (data.ok) {
                        insertText(area, data.text);
                        reset();
                    } else {
                        showError(data.error);
                    }
                })
                .catch(function (failure) {
                    showError(failure.message || root.dataset.failed);
                });
        }

        button.addEventListener("click", insert);
        fields.addEventListener("keydown", function (event) {
            if (event.key === "Enter") {
                event.preventDefault(); // the control sits inside the action form: never submit it
                insert();
            }
        });
    }

    function setupAll() {
        document.querySelectorAll("[data-reply-picker]").forEach(setup);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", setupAll);
    } else {
        setupAll();
    }
})();
