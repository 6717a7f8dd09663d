// Suggestions under the search field as a person types (the WAI-ARIA combobox pattern).
// Without this script the field is a plain GET form to /search, which answers the same.
(function () {
  "use strict";
  var input = document.getElementById("site-search-q");
  if (!input || !window.fetch) { return; }
  var form = input.form;
  var list = document.createElement("ul");
  list.id = "site-search-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.labels && input.labels[0] ? input.labels[0].textContent : "");
  list.hidden = true;
  form.appendChild(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  var language = document.documentElement.lang === "en" ? "en" : "de";
  var timer = null, asked = "", active = -1;

  function close() {
    list.hidden = true; list.textContent = ""; active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function mark(index) {
    var options = list.querySelectorAll("[role=option]");
    if (!options.length) { return; }
    active = (index + options.length) % options.length;
    options.forEach(function (option, i) { option.setAttribute("aria-selected", i === active ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", options[active].id);
  }

  function show(answer) {
    list.textContent = ""; active = -1;
    answer.hits.forEach(function (hit, i) {
      var item = document.createElement("li");
      item.id = "site-search-option-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.dataset.href = hit.page;
      var name = document.createElement("span");
      name.className = "name"; name.textContent = hit.label;
      var detail = document.createElement("span");
      detail.className = "hit-detail";
      detail.textContent = [hit.list_label, hit.kind].concat(hit.lands.slice(0, 2)).filter(Boolean).join(" · ");
      item.appendChild(name); item.appendChild(document.createTextNode(" ")); item.appendChild(detail);
      item.addEventListener("mousedown", function (event) { event.preventDefault(); location.href = hit.page; });
      list.appendChild(item);
    });
    var open = answer.hits.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function ask() {
    var query = input.value.trim();
    if (query === asked) { return; }
    asked = query;
    if (!query) { close(); return; }
    var url = input.dataset.suggest + "&lang=" + language + "&q=" + encodeURIComponent(query);
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { hits: [] }; })
      .then(function (answer) { if (input.value.trim() === query) { show(answer); } })
      .catch(close);
  }

  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 120); });
  input.addEventListener("keydown", function (event) {
    if (list.hidden) { return; }
    if (event.key === "ArrowDown") { event.preventDefault(); mark(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); mark(active - 1); }
    else if (event.key === "Escape") { event.preventDefault(); close(); }  // a second Escape clears the field
    else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      location.href = list.querySelectorAll("[role=option]")[active].dataset.href;
    }
  });
  input.addEventListener("blur", close);  // a click on an option acts on mousedown, before the blur
}());
