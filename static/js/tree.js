/*
 * Organisation tree page: lazy expansion and search by name over the REST API, with the browser session.
 *
 *   GET <api>?roots=true       tops of the user's scope (only when the server list was cut short)
 *   GET <api>?parent=<id>      children of a node, when it is first expanded
 *   GET <api>?search=<text>    branches whose name matches
 * Lists are cursor-paginated ({"results": [...], "next": url|null}); "Show more" follows `next`.
 * The server renders the first level with the same markup, so the page works before this file loads.
 */
(function () {
  "use strict";

  var tree = document.getElementById("branch-tree");
  var textsNode = document.getElementById("branch-tree-texts");
  if (!tree || !textsNode) {
    return;
  }
  var texts = JSON.parse(textsNode.textContent);
  var apiUrl = tree.dataset.apiUrl;
  var detailTemplate = tree.dataset.detailUrl;
  var PLACEHOLDER = "00000000-0000-0000-0000-000000000000";
  var rootList = document.getElementById("branch-tree-root");

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, key) {
      return key in values ? String(values[key]) : match;
    });
  }

  function apiList(params) {
    var url = new URL(apiUrl, window.location.href);
    Object.keys(params).forEach(function (key) {
      url.searchParams.set(key, params[key]);
    });
    return url.toString();
  }

  function fetchPage(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function warningMessages(warnings) {
    return (warnings || []).map(function (w) {
      return typeof w === "string" ? w : w.message || w.code;
    });
  }

  /* A tree node, the same markup as templates/branches/includes/tree_node.html. */
  function treeNode(item) {
    var li = el("li", "tree-node");
    li.id = "node-" + item.id;
    li.dataset.id = item.id;
    var row = el("div", "tree-row");
    var childCount = item.child_count || 0;
    if (childCount > 0) {
      var toggle = el("button", "tree-toggle");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "false");
      toggle.setAttribute("aria-controls", "children-" + item.id);
      toggle.setAttribute("aria-label", format(texts.expand, { name: item.name }));
      row.appendChild(toggle);
    } else {
      var leaf = el("span", "tree-leaf");
      leaf.setAttribute("aria-hidden", "true");
      row.appendChild(leaf);
    }
    row.appendChild(link(item, "tree-link"));
    row.appendChild(el("span", "badge", texts.kinds[item.kind] || item.kind));
    if (childCount > 0) {
      var countText = childCount === 1 ? texts.children_one : texts.children_other;
      row.appendChild(el("span", "tree-count", format(countText, { count: childCount })));
    }
    var messages = warningMessages(item.warnings);
    if (messages.length) {
      var badge = el("span", "badge warn", "⚠ " + messages.length);
      badge.title = messages.join(" ");
      row.appendChild(badge);
    }
    li.appendChild(row);
    if (childCount > 0) {
      var children = el("ul", "tree-children");
      children.id = "children-" + item.id;
      children.hidden = true;
      li.appendChild(children);
    }
    return li;
  }

  function link(item, className) {
    var a = el("a", className, item.name);
    a.href = detailTemplate.replace(PLACEHOLDER, item.id);
    return a;
  }

  function searchItem(item) {
    var li = el("li");
    li.appendChild(link(item));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "badge", texts.kinds[item.kind] || item.kind));
    return li;
  }

  /*
   * Load one page of `url` into `list`, then offer "Show more" while the API has a `next` page.
   * Resolves with the number of rows added; `isCurrent` lets a newer search discard an older answer.
   */
  function loadInto(list, url, render, isCurrent) {
    var status = el("li", "tree-status", texts.loading);
    status.setAttribute("role", "status");
    list.appendChild(status);
    return fetchPage(url).then(
      function (data) {
        if (isCurrent && !isCurrent()) {
          return 0;
        }
        status.remove();
        (data.results || []).forEach(function (item) {
          list.appendChild(render(item));
        });
        if (data.next) {
          var more = el("li", "tree-status");
          var button = el("button", "link-button tree-more", texts.show_more);
          button.type = "button";
          button.addEventListener("click", function () {
            more.remove();
            loadInto(list, data.next, render, isCurrent);
          });
          more.appendChild(button);
          list.appendChild(more);
        }
        return (data.results || []).length;
      },
      function () {
        if (isCurrent && !isCurrent()) {
          return 0;
        }
        status.textContent = texts.load_failed + " ";
        status.classList.add("error");
        var retry = el("button", "link-button", texts.retry);
        retry.type = "button";
        retry.addEventListener("click", function () {
          status.remove();
          loadInto(list, url, render, isCurrent);
        });
        status.appendChild(retry);
        return 0;
      }
    );
  }

  function setExpanded(toggle, expanded) {
    var node = toggle.closest(".tree-node");
    var name = node.querySelector(".tree-link").textContent;
    toggle.setAttribute("aria-expanded", expanded ? "true" : "false");
    toggle.setAttribute("aria-label", format(expanded ? texts.collapse : texts.expand, { name: name }));
    document.getElementById(toggle.getAttribute("aria-controls")).hidden = !expanded;
  }

  function onToggle(toggle) {
    var children = document.getElementById(toggle.getAttribute("aria-controls"));
    var expanded = toggle.getAttribute("aria-expanded") === "true";
    if (expanded) {
      setExpanded(toggle, false);
      return;
    }
    setExpanded(toggle, true);
    if (children.dataset.loaded) {
      return;
    }
    children.dataset.loaded = "true";
    toggle.setAttribute("aria-busy", "true");
    var id = toggle.closest(".tree-node").dataset.id;
    loadInto(children, apiList({ parent: id }), treeNode).then(function () {
      toggle.removeAttribute("aria-busy");
    });
  }

  tree.addEventListener("click", function (event) {
    var toggle = event.target.closest(".tree-toggle");
    if (toggle && tree.contains(toggle)) {
      onToggle(toggle);
    }
  });

  // Server-rendered nodes: their toggles wait, hidden, for this script.
  tree.querySelectorAll(".tree-toggle[hidden]").forEach(function (toggle) {
    toggle.hidden = false;
  });

  // The server renders at most a first batch of tops; page through all of them from the API.
  if (tree.dataset.truncated === "true") {
    var note = document.getElementById("branch-tree-truncated");
    if (note) {
      note.remove();
    }
    rootList.textContent = "";
    loadInto(rootList, apiList({ roots: "true" }), treeNode).then(function (count) {
      if (count === 0 && !rootList.children.length) {
        rootList.appendChild(el("li", "tree-status", texts.empty));
      }
    });
  }

  /* Search by name: as the user types (debounced) and on submit, without leaving the page. */
  var form = document.getElementById("branch-search");
  var input = document.getElementById("branch-search-input");
  var results = document.getElementById("branch-search-results");
  var searchStatus = document.getElementById("branch-search-status");
  var generation = 0;
  var timer = null;

  function search() {
    var text = input.value.trim();
    generation += 1;
    var mine = generation;
    results.textContent = "";
    searchStatus.textContent = "";
    if (!text) {
      return;
    }
    var isCurrent = function () {
      return mine === generation;
    };
    loadInto(results, apiList({ search: text }), searchItem, isCurrent).then(function (count) {
      if (isCurrent() && count === 0 && !results.querySelector(".tree-status")) {
        searchStatus.textContent = texts.no_results;
      }
    });
  }

  if (form && input && results && searchStatus) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(timer);
      search();
    });
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 300);
    });
  }
})();
