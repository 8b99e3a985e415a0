// The admin date picker (django/contrib/admin/static/admin/js/calendar.js) writes its caption as
// "<month name> <year>": "十二月 2026" in Chinese, where a reader expects "2026年12月" (issue 11 §15).
// The day initials (日 一 二 …) come from locale/zh_Hans/LC_MESSAGES/djangojs.po; the caption needs code.
(function () {
  "use strict";

  function patch() {
    var calendar = window.CalendarNamespace;
    if (!calendar || calendar.shouhouCaption) {
      return;
    }
    calendar.shouhouCaption = true;
    var draw = calendar.draw;
    calendar.draw = function (month, year, divId) {
      draw.apply(this, arguments);
      var lang = (document.documentElement.lang || "").toLowerCase();
      if (lang.indexOf("zh") !== 0) {
        return;
      }
      var caption = document.querySelector("#" + divId + " caption");
      if (caption) {
        caption.textContent = parseInt(year, 10) + "年" + parseInt(month, 10) + "月";
      }
    };
  }

  patch();
  document.addEventListener("DOMContentLoaded", patch);
})();
