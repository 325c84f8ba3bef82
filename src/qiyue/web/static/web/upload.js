/* Qiyue document upload: turns every form[data-upload] into a drop zone that sends each
   chosen or dropped file in its own XMLHttpRequest, with a progress bar and a per-file
   result. Without JavaScript the same form is a plain multipart post.
   Events are delegated from the document, so forms swapped in by htmx work too. */
(function () {
  "use strict";
  if (window.qiyueUpload) { return; }
  window.qiyueUpload = true;

  var PARALLEL = 2;

  function text(form, name) {
    var el = form.querySelector("[data-msg-" + name + "]");
    return el ? el.textContent : name;
  }

  function enhance(form) {
    if (form.dataset.enhanced) { return; }
    form.dataset.enhanced = "1";
    form.classList.add("js-upload");
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("form[data-upload]").forEach(enhance);
  }

  function refresh(form) {
    var url = form.dataset.refreshUrl;
    var target = form.dataset.refreshTarget;
    if (url && target && window.htmx) {
      window.htmx.ajax("GET", url, { target: target, swap: "innerHTML" });
    } else {
      window.location.reload();
    }
  }

  function send(form, file, row, done) {
    var bar = row.querySelector("progress");
    var status = row.querySelector(".upload-status");
    var data = new FormData();
    ["csrfmiddlewaretoken", "kind", "note", "document"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value !== undefined) { data.append(name, field.value); }
    });
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "application/json");
    var token = form.elements.csrfmiddlewaretoken;
    if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
    status.textContent = text(form, "uploading");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      status.textContent = text(form, "processing");
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      var ok = xhr.status >= 200 && xhr.status < 300 && body && body.ok;
      bar.value = 100;
      row.classList.add(ok ? "ok" : "failed");
      row.dataset.state = ok ? "done" : "failed";
      status.textContent = (body && body.message) || (ok ? text(form, "done") : text(form, "failed"));
      if (ok && body.url) {
        var link = document.createElement("a");
        link.href = body.url;
        link.textContent = row.querySelector(".upload-name").textContent;
        row.querySelector(".upload-name").replaceChildren(link);
      }
      done(ok);
    });
    xhr.addEventListener("error", function () {
      row.classList.add("failed");
      row.dataset.state = "failed";
      status.textContent = text(form, "network");
      done(false);
    });
    xhr.send(data);
  }

  function uploadAll(form, files) {
    if (!files || !files.length) { return; }
    var list = form.querySelector("[data-upload-list]");
    var template = form.querySelector("template[data-upload-item]");
    var queue = [];
    Array.prototype.forEach.call(files, function (file) {
      var row = template.content.firstElementChild.cloneNode(true);
      row.querySelector(".upload-name").textContent = file.name;
      row.dataset.state = "queued";
      list.appendChild(row);
      queue.push({ file: file, row: row });
    });
    var running = 0;
    var succeeded = 0;
    var remaining = queue.length;
    function next() {
      while (running < PARALLEL && queue.length) {
        var job = queue.shift();
        running += 1;
        job.row.dataset.state = "uploading";
        send(form, job.file, job.row, function (ok) {
          running -= 1;
          remaining -= 1;
          if (ok) { succeeded += 1; }
          if (remaining === 0 && succeeded) {
            refresh(form);
          } else {
            next();
          }
        });
      }
    }
    next();
  }

  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") { return; }
    var form = input.closest("form[data-upload]");
    if (!form) { return; }
    enhance(form);
    var files = Array.prototype.slice.call(input.files || []);
    uploadAll(form, files);
    input.value = "";
  });

  document.addEventListener("submit", function (e) {
    var form = e.target.closest && e.target.closest("form[data-upload]");
    if (!form) { return; }
    var input = form.querySelector("input[type=file]");
    // With JavaScript files go up as soon as they are chosen; a submit only resends any
    // still in the input.
    e.preventDefault();
    if (input && input.files && input.files.length) {
      uploadAll(form, Array.prototype.slice.call(input.files));
      input.value = "";
    }
  });

  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var zone = e.target.closest && e.target.closest("[data-dropzone]");
      if (!zone) { return; }
      e.preventDefault();
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "dragend"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var zone = e.target.closest && e.target.closest("[data-dropzone]");
      if (zone) { zone.classList.remove("dragging"); }
    });
  });
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (!zone) { return; }
    e.preventDefault();
    zone.classList.remove("dragging");
    var form = zone.closest("form[data-upload]");
    if (form && e.dataTransfer) {
      enhance(form);
      uploadAll(form, e.dataTransfer.files);
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(); });
  } else {
    enhanceAll();
  }
  document.addEventListener("htmx:afterSwap", function (e) { enhanceAll(e.target); });
})();
