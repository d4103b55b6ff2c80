/* carewatch's sign-up and manage pages (served at /-/subscribe.js): the rule is checked as it is
   typed (debounced), against /subscribe/check, and the answer shown in the page's live region:
   what is wrong with the rule, with a caret under the place, or how many articles of the last
   30 days the choices would have sent, and the five latest titles. Everything is put in the page
   as text (textContent), never as markup. Without this script the form works the same: the
   server checks the rule again when the form is sent. */
(function () {
  "use strict";
  var WAIT = 300; // ms after the last keystroke

  function start() {
    var region = document.getElementById("cw-preview");
    var form = region && region.closest("form");
    var rule = form && form.querySelector("#rule");
    if (!region || !rule) {
      return;
    }
    var keywords = form.querySelector("#keywords");
    var topics = form.querySelectorAll('input[name="topics"]');
    var days = region.getAttribute("data-days") || "30";
    var url = new URL(region.getAttribute("data-check-url"), window.location.href);
    var timer = null;
    var asked = 0;
    var inFlight = null;
    var serverSaid = true; // the error the server rendered with the page is still shown

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

    function day(iso) {
      var d = new Date(iso);
      if (isNaN(d.getTime())) {
        return iso.slice(0, 10);
      }
      return d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "Europe/London" });
    }

    function chosen() {
      var ids = [];
      topics.forEach(function (box) {
        if (box.checked) {
          ids.push(box.value);
        }
      });
      return ids;
    }

    function clear() {
      while (region.firstChild) {
        region.removeChild(region.firstChild);
      }
    }

    function forgetServerError() {
      if (!serverSaid) {
        return;
      }
      serverSaid = false;
      var old = document.getElementById("rule-error");
      if (old) {
        old.parentNode.removeChild(old);
      }
      form.querySelectorAll(".cw-caret").forEach(function (pre) {
        if (!region.contains(pre)) {
          pre.parentNode.removeChild(pre);
        }
      });
      rule.removeAttribute("aria-invalid");
      rule.setAttribute("aria-describedby", "rule-help cw-preview");
    }

    function show(answer, typed) {
      clear();
      region.classList.remove("cw-preview-error", "cw-preview-ok");
      if (answer.error) {
        region.classList.add("cw-preview-error");
        var where = answer.column ? " (at character " + answer.column + ")" : "";
        region.appendChild(el("p", "cw-error", "This cannot be read" + where + ": " + answer.error));
        if (answer.column && typed) {
          var pre = el("pre", "cw-caret");
          pre.setAttribute("aria-hidden", "true");
          var spaces = new Array(Math.max(answer.column, 1)).join(" ");
          pre.appendChild(el("code", "", typed + "\n" + spaces + "^"));
          region.appendChild(pre);
        }
        rule.setAttribute("aria-invalid", "true");
        return;
      }
      rule.removeAttribute("aria-invalid");
      region.classList.add("cw-preview-ok");
      var n = answer.count || 0;
      region.appendChild(
        el(
          "p",
          "cw-preview-count",
          n + (n === 1 ? " article" : " articles") + " in the last " + (answer.days || days) +
            " days would have been sent" + (n ? ". The latest:" : ".")
        )
      );
      if (answer.latest && answer.latest.length) {
        var list = el("ul", "cw-preview-titles");
        answer.latest.forEach(function (item) {
          var li = el("li");
          li.appendChild(el("span", "cw-preview-title", item.title));
          if (item.first_seen) {
            li.appendChild(el("span", "cw-muted", " \u00b7 found " + day(item.first_seen)));
          }
          list.appendChild(li);
        });
        region.appendChild(list);
      }
    }

    function ask() {
      var typed = rule.value.trim();
      var words = keywords ? keywords.value : "";
      var ids = chosen();
      if (!typed && !words.trim() && !ids.length) {
        clear();
        region.classList.remove("cw-preview-error", "cw-preview-ok");
        rule.removeAttribute("aria-invalid");
        return;
      }
      var query = new URLSearchParams();
      query.set("rule", typed);
      query.set("keywords", words);
      ids.forEach(function (id) {
        query.append("topics", id);
      });
      url.search = query.toString();
      var mine = ++asked;
      if (inFlight) {
        inFlight.abort();
      }
      inFlight = window.AbortController ? new AbortController() : null;
      region.setAttribute("aria-busy", "true");
      fetch(url.toString(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: inFlight ? inFlight.signal : undefined,
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (answer) {
          if (mine === asked) {
            region.removeAttribute("aria-busy");
            show(answer, typed);
          }
        })
        .catch(function (error) {
          if (mine === asked && error.name !== "AbortError") {
            region.removeAttribute("aria-busy");
            clear(); // the server checks again when the form is sent
          }
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, WAIT);
    }

    rule.addEventListener("input", function () {
      forgetServerError();
      later();
    });
    if (keywords) {
      keywords.addEventListener("input", later);
    }
    topics.forEach(function (box) {
      box.addEventListener("change", later);
    });
    if (rule.value.trim() && !document.getElementById("rule-error")) {
      ask(); // a page shown again with a rule in it: its preview at once
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
