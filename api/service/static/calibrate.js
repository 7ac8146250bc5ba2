// Uniform calibration page: a click on the frame is sent, in the frame's pixels, with the
// chosen role; the server stores the signature of the person there and answers in words.
// Licensed AGPL-3.0-or-later.
(function () {
  "use strict";
  var svg = document.getElementById("frame");
  var status = document.getElementById("status");
  var stored = document.getElementById("stored");
  var token = document.querySelector('meta[name="calibrate-token"]').content;
  var busy = false;

  function show(text, ok) {
    status.textContent = text;
    status.classList.toggle("error", !ok);
    status.classList.toggle("ok", ok);
  }

  function framePoint(event) {
    var pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }

  svg.addEventListener("click", function (event) {
    if (busy) { return; }
    var p = framePoint(event);
    var role = document.querySelector('input[name="role"]:checked').value;
    busy = true;
    show("正在保存……", true);
    fetch("/signatures", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Calibrate-Token": token },
      body: JSON.stringify({ x: p.x, y: p.y, role: role })
    }).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (r) {
      if (r.ok) {
        stored.textContent = String(r.body.count);
        show(r.body.message, true);
      } else {
        show(typeof r.body.detail === "string" ? r.body.detail : "请求无效", false);
      }
    }).catch(function () {
      show("无法连接 branchwatch calibrate，请确认终端中的程序仍在运行", false);
    }).then(function () { busy = false; });
  });
}());
