// Zone editor: click vertices on the reference frame, finish a zone with its id, kind and
// name, preview the effect on the last night, save to the site configuration.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("zone-data").textContent);
  var kindNames = {};
  data.kinds.forEach(function (k) { kindNames[k[0]] = k[1]; });
  var zones = data.zones.map(function (z) { return Object.assign({}, z); });
  var current = [];
  var svg = document.getElementById("overlay");
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";
  var message = document.getElementById("zone-message");
  var NS = "http://www.w3.org/2000/svg";

  function round(v) { return Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000; }

  function shape(points, cls) {
    var el = document.createElementNS(NS, points.length > 2 ? "polygon" : "polyline");
    el.setAttribute("points", points.map(function (p) { return p[0] + "," + p[1]; }).join(" "));
    el.setAttribute("class", cls);
    el.setAttribute("fill", cls === "zone" ? "rgba(0,120,255,0.25)" : "rgba(255,140,0,0.25)");
    el.setAttribute("stroke", cls === "zone" ? "#0066dd" : "#ff8800");
    el.setAttribute("stroke-width", "0.003");
    return el;
  }

  function draw() {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    zones.forEach(function (z) { svg.appendChild(shape(z.polygon, "zone")); });
    if (current.length) { svg.appendChild(shape(current, "drawing")); }
    var body = document.querySelector("#zone-list tbody");
    body.innerHTML = "";
    zones.forEach(function (z, i) {
      var row = document.createElement("tr");
      [z.id, kindNames[z.kind] || z.kind, z.name || "", String(z.polygon.length)].forEach(function (t) {
        var td = document.createElement("td"); td.textContent = t; row.appendChild(td);
      });
      var td = document.createElement("td");
      var del = document.createElement("button");
      del.type = "button"; del.textContent = "删除"; del.className = "delete-zone";
      del.addEventListener("click", function () { zones.splice(i, 1); draw(); });
      td.appendChild(del); row.appendChild(td); body.appendChild(row);
    });
  }

  svg.addEventListener("click", function (ev) {
    var box = svg.getBoundingClientRect();
    current.push([round((ev.clientX - box.left) / box.width), round((ev.clientY - box.top) / box.height)]);
    draw();
  });
  document.getElementById("undo-point").addEventListener("click", function () { current.pop(); draw(); });
  document.getElementById("finish-zone").addEventListener("click", function () {
    var id = document.getElementById("zone-id").value.trim();
    if (current.length < 3) { message.textContent = "一个区域至少需要 3 个顶点"; return; }
    if (!id) { message.textContent = "请填写区域编号"; return; }
    var zone = { id: id, kind: document.getElementById("zone-kind").value, polygon: current };
    var name = document.getElementById("zone-name").value.trim();
    var win = document.getElementById("zone-window").value.trim();
    if (name) { zone.name = name; }
    if (win) { zone.window_id = win; }
    zones = zones.filter(function (z) { return z.id !== id; });
    zones.push(zone);
    current = [];
    message.textContent = "区域 " + id + " 已完成（尚未保存）";
    draw();
  });

  function post(path, done) {
    fetch(data.url + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "X-Requested-With": "fetch" },
      body: JSON.stringify({ zones: zones })
    }).then(function (r) {
      // Errors of the pages come back as one line of text (see api.service.app).
      return (r.ok ? r.json() : r.text()).then(function (body) { return [r.ok, body]; });
    }).then(function (res) {
      if (!res[0]) { message.textContent = "未完成：" + (res[1] || "请求失败"); return; }
      done(res[1]);
    }, function () { message.textContent = "请求失败，请检查网络后重试"; });
  }

  document.getElementById("save-zones").addEventListener("click", function () {
    post("", function (j) { message.textContent = j.message; });
  });
  document.getElementById("preview-zones").addEventListener("click", function () {
    post("/preview", function (j) {
      var out = document.getElementById("zone-preview");
      out.innerHTML = "";
      if (!j.night) { out.textContent = j.message; return; }
      var h = document.createElement("h2"); h.textContent = j.night + " 的预览（共 " + j.total_samples + " 个采样）";
      out.appendChild(h);
      var t = document.createElement("table"); t.className = "grid"; t.id = "preview-samples";
      t.innerHTML = "<thead><tr><th>区域</th><th>有人的采样（新）</th><th>有人的采样（现行）</th></tr></thead>";
      var tb = document.createElement("tbody");
      Object.keys(j.samples).concat(Object.keys(j.current_samples).filter(function (k) { return !(k in j.samples); })).forEach(function (k) {
        var row = document.createElement("tr");
        [k, k in j.samples ? j.samples[k] : "—", k in j.current_samples ? j.current_samples[k] : "—"].forEach(function (v) {
          var td = document.createElement("td"); td.textContent = String(v); row.appendChild(td);
        });
        tb.appendChild(row);
      });
      t.appendChild(tb); out.appendChild(t);
      [["新增事件", j.added], ["不再报告的事件", j.removed]].forEach(function (part) {
        var p = document.createElement("p");
        p.textContent = part[0] + "：" + (part[1].length ? part[1].map(function (e) {
          return e.name + " " + e.start + "–" + e.end + (e.zone ? "（" + e.zone + "）" : "");
        }).join("；") : "无");
        out.appendChild(p);
      });
    });
  });
  draw();
})();
