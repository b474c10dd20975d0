// Upload progress for forms posted by htmx (client import): fills <progress id="import-progress">.
(function () {
  if (window.aremkoUploadProgress) return;
  window.aremkoUploadProgress = true;
  document.addEventListener("htmx:xhr:progress", function (evt) {
    var bar = document.getElementById("import-progress");
    if (bar && evt.detail && evt.detail.lengthComputable && evt.detail.total) {
      bar.value = Math.round((evt.detail.loaded / evt.detail.total) * 100);
    }
  });
})();
