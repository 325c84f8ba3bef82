/* Qiyue search: the header box's instant results (fetched by htmx) shown and hidden,
   reachable with the arrow keys and closed with Escape (a refused query's 400 message is
   swapped in like any refused form: see the htmx-config in base.html); the sort switch of
   the results page submits by itself; a document page opened from a hit scrolls to the
   first marked match.
   Without JavaScript the box is a plain GET form to the results page. */
(function () {
  "use strict";
  if (window.qiyueSearch) { return; }
  window.qiyueSearch = true;

  function box() { return document.getElementById("search-instant"); }
  function input() { return document.querySelector("[data-testid=header-search-input]"); }
  function hits() { var b = box(); return b ? Array.prototype.slice.call(b.querySelectorAll("a")) : []; }

  function setOpen(open) {
    var b = box(), i = input();
    if (!b || !i) { return; }
    b.classList.toggle("open", open);
    i.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function close() { setOpen(false); }

  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "search-instant") {
      setOpen(evt.detail.target.innerHTML.trim() !== "");
    }
  });

  document.addEventListener("keydown", function (evt) {
    var i = input(), list = hits();
    if (!i) { return; }
    var inBox = box() && box().contains(document.activeElement);
    if (document.activeElement !== i && !inBox) { return; }
    if (evt.key === "Escape") {
      i.focus();
      close();
      return;
    }
    if (evt.key !== "ArrowDown" && evt.key !== "ArrowUp") { return; }
    if (!list.length) { return; }
    evt.preventDefault();
    setOpen(true);
    var at = list.indexOf(document.activeElement);
    if (evt.key === "ArrowDown") {
      list[Math.min(at + 1, list.length - 1)].focus();
    } else if (at <= 0) {
      i.focus();
    } else {
      list[at - 1].focus();
    }
  });

  document.addEventListener("click", function (evt) {
    var form = document.querySelector("[data-testid=header-search]");
    if (form && !form.contains(evt.target)) { close(); }
  });

  document.addEventListener("focusin", function (evt) {
    var i = input();
    if (evt.target === i && box() && box().innerHTML.trim() !== "") { setOpen(true); }
  });

  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el && el.getAttribute && el.getAttribute("data-testid") === "search-sort" && el.form) {
      el.form.submit();
    }
  });

  function toFirstMatch() {
    var mark = document.getElementById("first-match");
    if (mark && !window.location.hash) { mark.scrollIntoView({ block: "center" }); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", toFirstMatch);
  } else {
    toFirstMatch();
  }
})();
