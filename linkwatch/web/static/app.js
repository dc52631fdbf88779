// linkwatch console: CSRF token on htmx requests, and the triage keyboard shortcuts.
// No inline script anywhere (the Content-Security-Policy forbids it); this file is all there is.
(function () {
  "use strict";

  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });

  function typingIn(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function panels() {
    return ["panel-confirm", "panel-dismiss", "panel-note"]
      .map(function (id) { return document.getElementById(id); })
      .filter(function (el) { return el !== null; });
  }

  function openPanel(id, focusSelector) {
    panels().forEach(function (p) { p.open = p.id === id; });
    var panel = document.getElementById(id);
    if (!panel) { return; }
    var field = panel.querySelector(focusSelector);
    if (field) { field.focus(); }
  }

  function go(id) {
    if (id) { window.location.assign("/triage?link=" + encodeURIComponent(id)); }
  }

  document.addEventListener("keydown", function (event) {
    var triage = document.getElementById("triage");
    if (!triage || !triage.dataset.link || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var confirmPanel = document.getElementById("panel-confirm");

    if (event.key === "Escape") {
      panels().forEach(function (p) { p.open = false; });
      if (target && target.blur) { target.blur(); }
      return;
    }
    // In the confirm panel, a digit picks the category and Enter on the list sends the form.
    if (confirmPanel && confirmPanel.open && (target.tagName === "SELECT" || !typingIn(target))) {
      var select = confirmPanel.querySelector("select");
      if (/^[1-9]$/.test(event.key) && select) {
        var index = parseInt(event.key, 10);
        if (index < select.options.length) {
          select.selectedIndex = index;
          select.focus();
          event.preventDefault();
          return;
        }
      }
      if (event.key === "Enter" && target.tagName === "SELECT") {
        event.preventDefault();
        select.form.requestSubmit();
        return;
      }
    }
    if (typingIn(target)) { return; }
    switch (event.key) {
      case "c": event.preventDefault(); openPanel("panel-confirm", "select"); break;
      case "d": event.preventDefault(); openPanel("panel-dismiss", "input[name=note]"); break;
      case "n": event.preventDefault(); openPanel("panel-note", "input[name=note]"); break;
      case "s": event.preventDefault(); document.getElementById("form-skip").requestSubmit(); break;
      case "j": event.preventDefault(); go(triage.dataset.next); break;
      case "k": event.preventDefault(); go(triage.dataset.prev); break;
      default: break;
    }
  });
})();
