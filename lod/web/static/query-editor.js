/* The query editor of /sparql: YASGUI (vendored in static/yasgui/), configured from this server
 * only. It puts itself in the place of the page's plain form where JavaScript runs; where it does
 * not, or where anything here fails, the form stays. Nothing asks another origin: YASQE's own
 * completers (prefix.cc, Linked Open Vocabularies) are replaced by ours, which complete from
 * /sparql/editor.json (the predeclared prefixes, the release's VoID and the ontology), and the
 * Content-Security-Policy would refuse any other request anyway. Nothing is kept in the browser's
 * storage; a query is shared by its link (/sparql?query=…). */
"use strict";

(function () {
  const root = document.getElementById("query-editor");
  const form = document.getElementById("query-form");
  if (!root || !form || typeof window.Yasgui !== "function") {
    return;
  }
  const Yasgui = window.Yasgui;
  const Yasqe = Yasgui.Yasqe;

  // As long as YASQE's default list on purpose: YASGUI merges configurations with lodash's merge,
  // which merges arrays index by index, so a shorter list would keep the defaults after its end
  // (the completers that ask LOV). tests/test_editor.py checks what each editor ends up with.
  const COMPLETERS = ["variables", "lod-prefixes", "lod-properties", "lod-classes"];
  const NEW_TAB_QUERY = "SELECT ?class (COUNT(?s) AS ?n) WHERE {\n  ?s a ?class\n}\nGROUP BY ?class\nORDER BY DESC(?n)\n";

  function expandPredeclared(prefixes, token) {
    // YASQE resolves a prefixed name only by the query's own PREFIX lines; the endpoint
    // predeclares some, and a name with one of those should complete too.
    if (token.tokenPrefix && !token.tokenPrefixUri) {
      const namespace = prefixes[token.tokenPrefix.slice(0, -1)];
      if (namespace !== undefined) {
        token.tokenPrefixUri = namespace;
        token.autocompletionString = namespace + token.string.trim().substring(token.tokenPrefix.length);
      }
    }
    return token;
  }

  function withDeclarations(query, prefixes) {
    // The endpoint predeclares some prefixes, YASQE's syntax check knows only a query's own
    // PREFIX lines: a query from elsewhere (an address, a bookmark) gets lines for those it uses,
    // as YASQE writes one when a prefixed name is typed. Strings, IRIs and comments are skipped.
    const code = query.replace(/<[^<>\s]*>|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|#.*$/gm, " ");
    const declared = new Set(Array.from(code.matchAll(/PREFIX\s+([A-Za-z][\w.-]*)?:/gi), (m) => m[1]));
    const used = new Set(Array.from(code.matchAll(/(?:^|[^\w:.-])([A-Za-z][\w.-]*):/g), (m) => m[1]));
    const lines = Object.keys(prefixes)
      .filter((name) => used.has(name) && !declared.has(name))
      .map((name) => "PREFIX " + name + ": <" + prefixes[name] + ">\n");
    return lines.join("") + query;
  }

  function registerCompleters(config) {
    const prefixes = config.prefixes;
    const declarations = Object.keys(prefixes).sort().map((name) => name + ": <" + prefixes[name] + ">");
    // Forks keep YASQE's logic of where each completes and how it writes a suggestion; only
    // where the suggestions come from changes. false: YASQE's defaults are left as they are.
    Yasqe.forkAutocompleter("prefixes", {name: "lod-prefixes", persistenceId: null, get: () => declarations}, false);
    for (const [base, name, terms] of [["property", "lod-properties", config.properties],
                                       ["class", "lod-classes", config.classes]]) {
      const preProcess = Yasqe.Autocompleters[base].preProcessToken;
      Yasqe.forkAutocompleter(base, {
        name: name,
        bulk: true,
        autoShow: true,
        persistenceId: null,
        get: () => terms,
        preProcessToken: (yasqe, token) => expandPredeclared(prefixes, preProcess(yasqe, token)),
      }, false);
    }
  }

  function nameControls(root) {
    // YASR's page size menu has a text beside it but no name a screen reader can announce.
    for (const select of root.querySelectorAll("select.tableSizer:not([aria-label])")) {
      const label = select.parentElement.querySelector(".pageSizerLabel");
      select.setAttribute("aria-label", (label ? label.textContent : "Page size").replace(/:\s*$/, ""));
    }
  }

  function start(config) {
    const endpoint = new URL(config.endpoint, window.location.href).href;
    const english = document.documentElement.lang === "en";
    registerCompleters(config);
    // Shown before YASGUI draws: CodeMirror measures the element it draws in.
    root.hidden = false;
    form.hidden = true;
    const yasgui = new Yasgui(root, {
      autofocus: false, // the page opens at its top, where a keyboard's focus starts
      persistenceId: null,
      autoAddOnInit: false,
      copyEndpointOnNewTab: false,
      tabName: english ? "Query" : "Abfrage",
      // A query in the address (the plain form's links, ?query=…) opens in a tab and runs; it
      // runs here, whatever endpoint the address names.
      populateFromUrl: (tab) => {
        tab.requestConfig.endpoint = endpoint;
        tab.yasqe.value = withDeclarations(tab.yasqe.value, config.prefixes);
        return tab;
      },
      requestConfig: {endpoint: endpoint, method: "POST"},
      endpointCatalogueOptions: {getData: () => [{endpoint: endpoint}], keys: []},
      yasqe: {
        autocompleters: COMPLETERS,
        value: NEW_TAB_QUERY,
        screenReaderLabel: english ? "SPARQL query" : "SPARQL-Abfrage",
        // The editor grows with its query (query-editor.css) rather than scrolling inside a
        // fixed height, which a keyboard could not scroll: every line is drawn.
        viewportMargin: Infinity,
      },
      yasr: {prefixes: config.prefixes},
    });
    const fromAddress = yasgui.getTab() !== undefined;
    config.examples.forEach((example, index) => {
      yasgui.addTab(!fromAddress && index === 0, {
        name: (english ? example.title.en : example.title.de) || example.name,
        yasqe: {value: example.query},
      });
    });
    // YASGUI draws a tab's panel when it is first chosen, but each tab names its panel
    // (aria-controls) from the start: all are drawn now, then the first is chosen again.
    const first = yasgui.getTab();
    for (const id of yasgui.persistentConfig.getTabs()) {
      yasgui.selectTabId(id);
    }
    yasgui.selectTabId(first.getId());
    // YASGUI's "+" sits inside the list of tabs, where only tabs belong; this button, after the
    // list, does the same (query-editor.css hides YASGUI's).
    const add = document.createElement("button");
    add.type = "button";
    add.className = "query-editor-add";
    add.textContent = english ? "New query" : "Neue Abfrage";
    add.addEventListener("click", () => yasgui.addTab(true));
    root.querySelector(".tabsList").after(add);
    nameControls(root);
    new MutationObserver(() => nameControls(root)).observe(root, {childList: true, subtree: true});
    // For the tests (and for a person at the browser's console): the editor is ready, and here.
    root.dataset.ready = "true";
    window.lodQueryEditor = yasgui;
  }

  fetch(root.dataset.config, {headers: {Accept: "application/json"}})
    .then((response) => {
      if (!response.ok) {
        throw new Error(response.status + " " + response.statusText);
      }
      return response.json();
    })
    .then(start)
    .catch((error) => {
      root.hidden = true;
      form.hidden = false;
      console.warn("The query editor did not start; the plain form stays.", error);
    });
}());
