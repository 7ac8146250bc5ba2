// Keyboard review: j/k move through the queue, c confirms, d dismisses (1-4 or typed reason),
// r replays the clip, z enlarges the still (Esc closes it), Enter opens the event page. A decision is one POST that answers with
// the panel of the next event, swapped in place. Licensed AGPL-3.0-or-later.
(function () {
  "use strict";
  var STATUS = { pending: "待复核", confirmed: "已确认", dismissed: "已排除" };
  var slot = document.getElementById("panel-slot");
  var list = document.getElementById("event-list");
  var stay = slot && slot.dataset.stay === "1";
  var busy = false;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";

  function panel() { return document.getElementById("panel"); }
  function rows() { return list ? Array.prototype.slice.call(list.querySelectorAll("tbody tr")) : []; }
  function rowOf(id) { return list ? list.querySelector('tbody tr[data-id="' + id + '"]') : null; }

  function markCurrent(id) {
    rows().forEach(function (r) { r.classList.toggle("current", r.dataset.id === String(id)); });
    var row = rowOf(id);
    if (row) { row.scrollIntoView({ block: "nearest" }); }
  }

  function showError(text) {
    var p = panel();
    var box = p && p.querySelector(".form-error");
    if (box) { box.textContent = text; box.hidden = false; }
  }

  function swap(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("#panel");
    var old = panel();
    if (fresh && old) { old.replaceWith(fresh); }
    if (fresh) { markCurrent(fresh.dataset.eventId); }
  }

  function load(row) {
    if (!row || busy) { return; }
    busy = true;
    fetch(row.dataset.url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(swap)
      .catch(function (code) { showError("加载失败（" + code + "）"); })
      .finally(function () { busy = false; });
  }

  function move(step) {
    var all = rows();
    var p = panel();
    var id = p ? p.dataset.eventId : "";
    var i = all.findIndex(function (r) { return r.dataset.id === id; });
    var next = all[i < 0 ? 0 : i + step];
    if (next) { load(next); }
  }

  function decide(action, reason) {
    var form = document.getElementById("review-form");
    if (!form || busy) { return; }
    var data = new FormData();
    data.append("action", action);
    if (action === "relabel") {
      reason = form.elements.relabel_reason.value.trim();
      if (!reason) { showError("请填写改判原因"); return; }
      data.append("item", form.elements.item.value);
    }
    busy = true;
    data.append("reason", reason || "");
    data.append("expected_status", form.elements.expected_status.value);
    if (stay) { data.append("stay", "true"); }
    fetch(form.getAttribute("action"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" }
    })
      .then(function (r) {
        return r.text().then(function (text) {
          if (!r.ok) { return Promise.reject(text || String(r.status)); }
          var row = rowOf(r.headers.get("X-Reviewed-Id"));
          var status = r.headers.get("X-Reviewed-Status");
          if (row && status) {
            var badge = row.querySelector(".badge");
            badge.className = "badge status-" + status;
            badge.textContent = STATUS[status] || status;
          }
          swap(text);
        });
      })
      .catch(function (text) { showError("操作失败：" + text); })
      .finally(function () { busy = false; });
  }

  function dismissBox() { var p = panel(); return p ? p.querySelector("#dismiss-box") : null; }

  function replay() {
    var video = document.getElementById("clip");
    if (video) { video.currentTime = 0; video.play(); }
  }

  function enlarge() {
    var view = document.getElementById("still-view");
    if (view && !view.open) { view.showModal(); }
  }

  document.addEventListener("click", function (ev) {
    var row = ev.target.closest("#event-list tbody tr");
    if (row) { load(row); return; }
    var button = ev.target.closest("button[data-action], button[data-reason]");
    if (!button || !panel() || !panel().contains(button)) { return; }
    if (button.dataset.reason) { decide("dismiss", button.dataset.reason); return; }
    var action = button.dataset.action;
    if (action === "dismiss-open") { var box = dismissBox(); if (box) { box.hidden = false; } }
    else if (action === "replay") { replay(); }
    else if (action === "enlarge") { enlarge(); }
    else { decide(action); }
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var view = document.getElementById("still-view");
    if (view && view.open) { return; }  // the dialog closes itself on Esc
    var box = dismissBox();
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName);
    if (box && !box.hidden) {
      if (ev.key === "Escape") { box.hidden = true; ev.preventDefault(); return; }
      if (typing) {
        if (ev.key === "Enter" && ev.target.value.trim()) { ev.preventDefault(); decide("dismiss", ev.target.value.trim()); }
        return;
      }
      var pick = box.querySelectorAll("button[data-reason]")[Number(ev.key) - 1];
      if (pick) { ev.preventDefault(); decide("dismiss", pick.dataset.reason); }
      return;
    }
    if (typing) { return; }
    var handled = true;
    switch (ev.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "c": decide("confirm"); break;
      case "d": if (box) { box.hidden = false; } break;
      case "r": replay(); break;
      case "z": enlarge(); break;
      case "Enter": if (panel() && panel().dataset.detailUrl && !stay) { window.location = panel().dataset.detailUrl; } break;
      default: handled = false;
    }
    if (handled) { ev.preventDefault(); }
  });
})();
