/* Segment builder: a visual editor of the segment definition (AND/OR groups of conditions)
 * with a live size preview. Vanilla JS, no framework.
 *
 * The page provides:
 *   <script type="application/json" id="builder-catalogue">  fields, operators, event types ...
 *   <script type="application/json" id="builder-definition"> the definition to start from
 *   <div id="builder" data-preview-url="..." data-segment-id="...">  where the editor goes
 *   <input type="hidden" name="definition">                   kept in sync (JSON)
 *   <div id="preview"> with [data-preview-count], [data-preview-share], [data-preview-sample],
 *        [data-preview-words], [data-preview-errors], [data-preview-state]
 * The definition language is documented in docs/segments.md; the server validates it.
 */
(function () {
  "use strict";

  var PREVIEW_DELAY_MS = 350;
  var CONDITION_TYPES = [
    ["property", "Customer property"],
    ["score", "Prediction or score"],
    ["event", "Did an event"],
    ["order", "Orders and spend"],
    ["order_date", "First / last purchase"],
    ["event_date", "First / last seen"],
    ["segment", "Segment membership"],
    ["consent", "Consent"],
  ];
  var MEASURE_LABELS = {
    gte: "at least", gt: "more than", lte: "at most", lt: "fewer than", equals: "exactly",
    not_equals: "not exactly", between: "between", did_not: "did not",
  };
  var WINDOW_KINDS = [
    ["last_days", "in the last … days"],
    ["older_than_days", "more than … days ago"],
    ["range", "between dates"],
    ["ever", "ever"],
  ];

  var catalogue, root, hidden, container, preview, previewUrl, segmentId;
  var timer = null;
  var requestNumber = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function select(options, value, onchange, attrs) {
    var node = el("select", Object.assign({ className: "form-select form-select-sm" }, attrs || {}));
    options.forEach(function (option) {
      var item = el("option", { value: option[0], text: option[1] });
      if (String(option[0]) === String(value)) item.selected = true;
      node.appendChild(item);
    });
    node.addEventListener("change", function () { onchange(node.value); });
    return node;
  }

  function input(type, value, onchange, attrs) {
    var node = el("input", Object.assign({ type: type, className: "form-control form-control-sm" }, attrs || {}));
    node.value = value === null || value === undefined ? "" : value;
    node.addEventListener("input", function () { onchange(node.value); });
    return node;
  }

  function numberOrText(text) {
    var trimmed = String(text).trim();
    if (trimmed !== "" && !isNaN(Number(trimmed))) return Number(trimmed);
    return trimmed;
  }

  function asNumber(text) {
    var trimmed = String(text).trim();
    return trimmed === "" || isNaN(Number(trimmed)) ? trimmed : Number(trimmed);
  }

  // ---------------------------------------------------------------------------------------
  // The catalogue.

  function fieldSpec(condition) {
    if (condition.type === "property" && String(condition.field || "").indexOf("attributes.") === 0) {
      return { name: condition.field, type: "attribute", operators: catalogue.attribute_operators, choices: [] };
    }
    var list = condition.type === "score" ? catalogue.scores : catalogue.properties;
    for (var i = 0; i < list.length; i++) {
      if (list[i].name === condition.field) return list[i];
    }
    return list[0];
  }

  function operatorOptions(operators) {
    return operators.map(function (name) { return [name, catalogue.operator_labels[name] || name]; });
  }

  function defaultCondition(type) {
    switch (type) {
      case "property": return { type: "property", field: "country", operator: "equals", value: "" };
      case "score": return { type: "score", field: "churn_risk", operator: "gt", value: 0.5 };
      case "event": return { type: "event", event: "product_view", operator: "gte", value: 1, window: { last_days: 30 } };
      case "order": return { type: "order", measure: "count", operator: "gte", value: 1, window: { last_days: 90 } };
      case "order_date": return { type: "order_date", which: "last", operator: "in_last_days", value: 30 };
      case "event_date": return { type: "event_date", which: "last", operator: "in_last_days", value: 30 };
      case "segment": return { type: "segment", operator: "in", segment: catalogue.segments.length ? catalogue.segments[0].id : null };
      case "consent": return { type: "consent", purpose: catalogue.consent_purposes[0] || "email_marketing", granted: true };
      default: return { type: "group", operator: "and", conditions: [] };
    }
  }

  function defaultValue(spec, operator) {
    if (operator === "is_set" || operator === "is_not_set") return undefined;
    if (operator === "in" || operator === "not_in") return [];
    if (operator === "between") return spec.type === "date" || spec.type === "datetime" ? ["", ""] : [0, 0];
    if (operator === "in_last_days" || operator === "more_than_days_ago") return 30;
    if (spec.type === "number" || spec.type === "integer") return 0;
    if (spec.choices && spec.choices.length) return spec.choices[0];
    return "";
  }

  // ---------------------------------------------------------------------------------------
  // Editors of values.

  function valueEditor(condition, spec, changed) {
    var operator = condition.operator;
    var wrap = el("div", { className: "builder-value" });
    if (operator === "is_set" || operator === "is_not_set") return wrap;
    var isDate = spec.type === "date" || spec.type === "datetime";
    var isNumber = spec.type === "number" || spec.type === "integer";
    function set(value) { condition.value = value; changed(); }
    if (operator === "in_last_days" || operator === "more_than_days_ago") {
      wrap.appendChild(input("number", condition.value, function (v) { set(asNumber(v)); }, { min: 1, "aria-label": "days", "data-role": "value" }));
      wrap.appendChild(el("span", { className: "builder-unit", text: operator === "in_last_days" ? "days" : "days ago" }));
      return wrap;
    }
    if (operator === "between") {
      var pair = Array.isArray(condition.value) ? condition.value.slice() : ["", ""];
      var type = isDate ? "date" : "number";
      [0, 1].forEach(function (index) {
        if (index === 1) wrap.appendChild(el("span", { className: "builder-unit", text: "and" }));
        wrap.appendChild(input(type, pair[index], function (v) {
          pair[index] = isDate ? v : asNumber(v);
          set(pair.slice());
        }, { "aria-label": index ? "to" : "from", "data-role": "value" }));
      });
      return wrap;
    }
    if (isDate) {
      wrap.appendChild(input("date", condition.value, set, { "aria-label": "date", "data-role": "value" }));
      return wrap;
    }
    if (operator === "in" || operator === "not_in") {
      var joined = Array.isArray(condition.value) ? condition.value.join(", ") : "";
      wrap.appendChild(input("text", joined, function (v) {
        var parts = v.split(",").map(function (part) { return part.trim(); }).filter(Boolean);
        set(isNumber ? parts.map(asNumber) : spec.type === "attribute" ? parts.map(numberOrText) : parts);
      }, { placeholder: spec.choices && spec.choices.length ? spec.choices.join(", ") : "values, comma separated", "data-role": "value", "aria-label": "values" }));
      return wrap;
    }
    if (spec.choices && spec.choices.length && spec.type === "choice") {
      wrap.appendChild(select(spec.choices.map(function (c) { return [c, c || "(unknown)"]; }), condition.value, set, { "aria-label": "value", "data-role": "value" }));
      return wrap;
    }
    wrap.appendChild(input(isNumber ? "number" : "text", condition.value, function (v) {
      set(isNumber ? asNumber(v) : spec.type === "attribute" ? numberOrText(v) : v);
    }, { step: "any", "aria-label": "value", "data-role": "value" }));
    return wrap;
  }

  function windowEditor(condition, changed) {
    var windowValue = condition.window || {};
    var kind = "ever";
    if (windowValue.last_days !== undefined) kind = "last_days";
    else if (windowValue.older_than_days !== undefined) kind = "older_than_days";
    else if (windowValue.from !== undefined || windowValue.to !== undefined) kind = "range";
    var wrap = el("div", { className: "builder-window" });
    wrap.appendChild(select(WINDOW_KINDS, kind, function (value) {
      if (value === "last_days") condition.window = { last_days: 30 };
      else if (value === "older_than_days") condition.window = { older_than_days: 90 };
      else if (value === "range") condition.window = { from: "", to: "" };
      else delete condition.window;
      rerender();
    }, { "aria-label": "time window", "data-role": "window" }));
    if (kind === "last_days" || kind === "older_than_days") {
      wrap.appendChild(input("number", windowValue[kind], function (v) {
        condition.window = {};
        condition.window[kind] = asNumber(v);
        changed();
      }, { min: 1, "aria-label": "days", "data-role": "window-days" }));
      wrap.appendChild(el("span", { className: "builder-unit", text: "days" }));
    } else if (kind === "range") {
      ["from", "to"].forEach(function (key) {
        wrap.appendChild(input("date", windowValue[key], function (v) {
          if (v) condition.window[key] = v; else delete condition.window[key];
          changed();
        }, { "aria-label": key }));
      });
    }
    return wrap;
  }

  function filterEditor(condition, source, changed) {
    var where = condition.where || {};
    var keys = source === "event" ? ["category", "brand", "product"] : ["category", "brand", "product", "channel"];
    var wrap = el("div", { className: "builder-where" });
    keys.forEach(function (key) {
      wrap.appendChild(input("text", where[key], function (v) {
        condition.where = condition.where || {};
        if (v.trim()) condition.where[key] = v.trim(); else delete condition.where[key];
        if (!Object.keys(condition.where).length) delete condition.where;
        changed();
      }, { placeholder: key === "product" ? "product SKU" : key, "aria-label": key, list: key === "category" ? "builder-categories" : key === "brand" ? "builder-brands" : null, "data-role": "where-" + key }));
    });
    return wrap;
  }

  // ---------------------------------------------------------------------------------------
  // Conditions.

  function conditionBody(condition, changed) {
    var row = el("div", { className: "builder-fields" });
    var spec;
    switch (condition.type) {
      case "property":
      case "score": {
        var list = condition.type === "score" ? catalogue.scores : catalogue.properties;
        var options = list.map(function (f) { return [f.name, f.label]; });
        var isAttribute = String(condition.field || "").indexOf("attributes.") === 0;
        if (condition.type === "property") options.push(["attributes.", "Attribute…"]);
        row.appendChild(select(options, isAttribute ? "attributes." : condition.field, function (value) {
          condition.field = value === "attributes." ? "attributes.plan" : value;
          var next = fieldSpec(condition);
          condition.operator = next.operators[0];
          condition.value = defaultValue(next, condition.operator);
          rerender();
        }, { "aria-label": "field", "data-role": "field" }));
        if (isAttribute) {
          row.appendChild(input("text", condition.field.slice("attributes.".length), function (v) {
            condition.field = "attributes." + v.trim();
            changed();
          }, { placeholder: "key", "aria-label": "attribute key", className: "form-control form-control-sm builder-key" }));
        }
        spec = fieldSpec(condition);
        row.appendChild(select(operatorOptions(spec.operators), condition.operator, function (value) {
          var before = condition.operator;
          condition.operator = value;
          var kinds = function (op) { return ["in", "not_in"].indexOf(op) >= 0 ? "list" : op === "between" ? "pair" : ["in_last_days", "more_than_days_ago"].indexOf(op) >= 0 ? "days" : ["is_set", "is_not_set"].indexOf(op) >= 0 ? "none" : "one"; };
          if (kinds(before) !== kinds(value)) condition.value = defaultValue(spec, value);
          if (condition.value === undefined) delete condition.value;
          rerender();
        }, { "aria-label": "operator", "data-role": "operator" }));
        row.appendChild(valueEditor(condition, spec, changed));
        break;
      }
      case "event":
      case "order": {
        if (condition.type === "event") {
          var events = [["", "any event"]].concat(catalogue.event_types.map(function (e) { return [e.value, e.label]; }));
          row.appendChild(select(events, condition.event || "", function (value) {
            if (value) condition.event = value; else delete condition.event;
            changed();
          }, { "aria-label": "event", "data-role": "event" }));
        } else {
          row.appendChild(select([["count", "Orders"], ["amount", "Amount spent"]], condition.measure || "count", function (value) {
            condition.measure = value;
            changed();
          }, { "aria-label": "measure", "data-role": "measure" }));
        }
        var didNot = condition.operator === "equals" && condition.value === 0;
        var ops = catalogue.measure_operators.map(function (op) { return [op, MEASURE_LABELS[op]]; });
        ops.push(["did_not", condition.type === "event" ? "did not" : "none (did not buy)"]);
        row.appendChild(select(ops, didNot ? "did_not" : condition.operator, function (value) {
          if (value === "did_not") { condition.operator = "equals"; condition.value = 0; }
          else {
            condition.operator = value;
            if (value === "between") condition.value = [1, 3];
            else if (Array.isArray(condition.value) || condition.value === 0) condition.value = 1;
          }
          rerender();
        }, { "aria-label": "how often", "data-role": "operator" }));
        if (!didNot) {
          var measureSpec = { type: condition.measure === "amount" ? "number" : "integer", choices: [] };
          var value = valueEditor(condition, measureSpec, changed);
          if (condition.type === "event" && condition.operator !== "between") value.appendChild(el("span", { className: "builder-unit", text: "times" }));
          row.appendChild(value);
        }
        row.appendChild(windowEditor(condition, changed));
        var filters = filterEditor(condition, condition.type, changed);
        return [row, el("div", { className: "builder-fields builder-subfields" }, [el("span", { className: "builder-unit", text: "where" }), filters])];
      }
      case "order_date":
      case "event_date": {
        row.appendChild(select([["first", "First"], ["last", "Last"]], condition.which || "last", function (value) {
          condition.which = value;
          changed();
        }, { "aria-label": "first or last", "data-role": "which" }));
        if (condition.type === "event_date") {
          var seen = [["", "activity"]].concat(catalogue.event_types.map(function (e) { return [e.value, e.label]; }));
          row.appendChild(select(seen, condition.event || "", function (value) {
            if (value) condition.event = value; else delete condition.event;
            changed();
          }, { "aria-label": "event" }));
        } else {
          row.appendChild(el("span", { className: "builder-unit", text: "purchase" }));
        }
        spec = { type: "datetime", choices: [] };
        row.appendChild(select(operatorOptions(catalogue.date_operators), condition.operator, function (value) {
          condition.operator = value;
          condition.value = defaultValue(spec, value);
          if (condition.value === undefined) delete condition.value;
          rerender();
        }, { "aria-label": "operator", "data-role": "operator" }));
        row.appendChild(valueEditor(condition, spec, changed));
        break;
      }
      case "segment": {
        row.appendChild(select([["in", "is in"], ["not_in", "is not in"]], condition.operator || "in", function (value) {
          condition.operator = value;
          changed();
        }, { "aria-label": "in or not in" }));
        var segments = catalogue.segments.map(function (s) { return [s.id, s.name]; });
        if (!segments.length) segments = [["", "no other segment yet"]];
        row.appendChild(select(segments, condition.segment, function (value) {
          condition.segment = value ? Number(value) : null;
          changed();
        }, { "aria-label": "segment", "data-role": "segment" }));
        break;
      }
      case "consent": {
        row.appendChild(select([["true", "has granted"], ["false", "has not granted"]], String(condition.granted !== false), function (value) {
          condition.granted = value === "true";
          changed();
        }, { "aria-label": "granted" }));
        row.appendChild(select(catalogue.consent_purposes.map(function (p) { return [p, p.replace(/_/g, " ")]; }), condition.purpose, function (value) {
          condition.purpose = value;
          changed();
        }, { "aria-label": "purpose" }));
        break;
      }
    }
    return [row];
  }

  function conditionNode(condition, path, parent, index) {
    var box = el("div", { className: "builder-condition", "data-path": path, "data-testid": "condition" });
    var head = el("div", { className: "builder-fields" });
    head.appendChild(select(CONDITION_TYPES, condition.type, function (value) {
      parent.conditions[index] = defaultCondition(value);
      rerender();
    }, { "aria-label": "condition type", "data-role": "type", className: "form-select form-select-sm builder-type" }));
    var negate = el("label", { className: "builder-not form-check-label small", title: "Negate: keep customers for whom this is false" });
    var box2 = el("input", { type: "checkbox", className: "form-check-input me-1", "data-role": "negate" });
    box2.checked = !!condition.negate;
    box2.addEventListener("change", function () {
      if (box2.checked) condition.negate = true; else delete condition.negate;
      box.classList.toggle("is-negated", box2.checked);
      changed();
    });
    negate.appendChild(box2);
    negate.appendChild(document.createTextNode("not"));
    head.appendChild(negate);
    head.appendChild(el("button", {
      type: "button", className: "btn btn-sm btn-link text-danger ms-auto builder-remove", title: "Remove this condition", "aria-label": "Remove condition", "data-testid": "remove-condition",
      onclick: function () { parent.conditions.splice(index, 1); rerender(); },
    }, [el("i", { className: "bi bi-x-lg" })]));
    box.appendChild(head);
    conditionBody(condition, changed).forEach(function (part) { box.appendChild(part); });
    box.appendChild(el("div", { className: "builder-error small text-danger", "data-role": "error" }));
    if (condition.negate) box.classList.add("is-negated");
    return box;
  }

  function groupNode(group, path, parent, index) {
    var prefix = path ? path + "." : "";
    var box = el("div", { className: "builder-group" + (path ? " builder-nested" : ""), "data-path": path, "data-testid": path ? "group" : "root-group" });
    var head = el("div", { className: "builder-group-head" });
    var toggle = el("div", { className: "btn-group btn-group-sm", role: "group", "aria-label": "Combine with" });
    [["and", "All of"], ["or", "Any of"]].forEach(function (option) {
      toggle.appendChild(el("button", {
        type: "button",
        className: "btn " + (group.operator === option[0] ? "btn-primary" : "btn-light"),
        "aria-pressed": group.operator === option[0] ? "true" : "false",
        "data-testid": "operator-" + option[0],
        text: option[1],
        onclick: function () { group.operator = option[0]; rerender(); },
      }));
    });
    head.appendChild(toggle);
    var negate = el("label", { className: "form-check-label small ms-2", title: "NOT: keep customers for whom this group is false" });
    var check = el("input", { type: "checkbox", className: "form-check-input me-1", "data-testid": "group-negate" });
    check.checked = !!group.negate;
    check.addEventListener("change", function () {
      if (check.checked) group.negate = true; else delete group.negate;
      rerender();
    });
    negate.appendChild(check);
    negate.appendChild(document.createTextNode("not (exclude these)"));
    head.appendChild(negate);
    head.appendChild(el("span", { className: "builder-hint small text-body-secondary ms-2", text: group.operator === "and" ? "every condition must hold" : "one condition is enough" }));
    if (parent) {
      head.appendChild(el("button", {
        type: "button", className: "btn btn-sm btn-link text-danger ms-auto", "aria-label": "Remove group",
        onclick: function () { parent.conditions.splice(index, 1); rerender(); },
      }, [el("i", { className: "bi bi-x-lg" })]));
    }
    box.appendChild(head);
    var list = el("div", { className: "builder-list" });
    (group.conditions || []).forEach(function (child, childIndex) {
      var childPath = prefix + "conditions[" + childIndex + "]";
      list.appendChild(child.type === "group" || (!child.type && child.conditions)
        ? groupNode(child, childPath, group, childIndex)
        : conditionNode(child, childPath, group, childIndex));
    });
    if (!(group.conditions || []).length) {
      list.appendChild(el("div", { className: "builder-empty small text-body-secondary", text: group.operator === "and" ? "No condition yet: every customer." : "No condition yet: nobody." }));
    }
    box.appendChild(list);
    box.appendChild(el("div", { className: "builder-error small text-danger", "data-role": "error" }));
    var actions = el("div", { className: "builder-actions" });
    actions.appendChild(el("button", {
      type: "button", className: "btn btn-sm btn-light", "data-testid": "add-condition",
      onclick: function () { group.conditions = group.conditions || []; group.conditions.push(defaultCondition("property")); rerender(); },
    }, [el("i", { className: "bi bi-plus-lg me-1" }), "Condition"]));
    actions.appendChild(el("button", {
      type: "button", className: "btn btn-sm btn-light", "data-testid": "add-group",
      onclick: function () { group.conditions = group.conditions || []; group.conditions.push({ type: "group", operator: group.operator === "and" ? "or" : "and", conditions: [defaultCondition("property")] }); rerender(); },
    }, [el("i", { className: "bi bi-diagram-2 me-1" }), "Group"]));
    box.appendChild(actions);
    return box;
  }

  // ---------------------------------------------------------------------------------------
  // Sync, preview, errors.

  function changed() {
    hidden.value = JSON.stringify(root);
    var raw = document.getElementById("builder-json");
    if (raw && document.activeElement !== raw) raw.value = JSON.stringify(root, null, 2);
    schedulePreview();
  }

  function rerender() {
    container.replaceChildren(groupNode(root, "", null, 0));
    changed();
  }

  function schedulePreview() {
    if (timer) clearTimeout(timer);
    preview.setAttribute("data-preview-state", "waiting");
    timer = setTimeout(runPreview, PREVIEW_DELAY_MS);
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function showErrors(errors) {
    container.querySelectorAll(".has-error").forEach(function (node) { node.classList.remove("has-error"); });
    container.querySelectorAll("[data-role=error]").forEach(function (node) { node.textContent = ""; });
    var list = preview.querySelector("[data-preview-errors]");
    list.replaceChildren();
    errors.forEach(function (error) {
      list.appendChild(el("li", {}, [el("code", { text: error.path || "definition" }), ": " + error.message]));
      // The deepest node whose path starts the error's path shows the message.
      var best = null;
      container.querySelectorAll("[data-path]").forEach(function (node) {
        var path = node.getAttribute("data-path");
        var path2 = error.path || "";
        if (path2 === path || path2.indexOf(path + ".") === 0 || path === "") {
          if (!best || path.length >= best.getAttribute("data-path").length) best = node;
        }
      });
      if (best) {
        best.classList.add("has-error");
        var slot = best.querySelector(":scope > [data-role=error]");
        if (slot) slot.textContent = (slot.textContent ? slot.textContent + " · " : "") + error.message;
      }
    });
    list.closest("[data-preview-error-box]").hidden = !errors.length;
  }

  function runPreview() {
    var number = ++requestNumber;
    preview.setAttribute("data-preview-state", "loading");
    fetch(previewUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ definition: root, segment_id: segmentId || null }),
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (number !== requestNumber) return;  // a newer edit is on its way
        showErrors(data.errors || []);
        if (data.errors && data.errors.length) {
          preview.setAttribute("data-preview-state", "invalid");
          return;
        }
        var format = new Intl.NumberFormat();
        preview.querySelector("[data-preview-count]").textContent = format.format(data.count);
        preview.querySelector("[data-preview-share]").textContent = data.share + "% of " + format.format(data.total_customers) + " customers";
        preview.querySelector("[data-preview-bar]").style.width = Math.min(100, data.share) + "%";
        preview.querySelector("[data-preview-seconds]").textContent = "counted in " + (data.seconds * 1000).toFixed(0) + " ms";
        var sample = preview.querySelector("[data-preview-sample]");
        sample.replaceChildren();
        data.sample.forEach(function (row) {
          var name = ((row.first_name || "") + " " + (row.last_name || "")).trim() || row.external_id;
          sample.appendChild(el("li", { className: "d-flex justify-content-between gap-2" }, [
            el("span", { className: "text-truncate", text: name }),
            el("span", { className: "font-monospace small text-body-secondary", text: row.external_id }),
          ]));
        });
        if (!data.sample.length) sample.appendChild(el("li", { className: "text-body-secondary", text: "Nobody matches yet." }));
        var words = preview.querySelector("[data-preview-words]");
        words.replaceChildren();
        data.description.forEach(function (line) {
          words.appendChild(el("li", { style: "padding-left:" + (line.depth * 1.1) + "rem", text: line.text }));
        });
        preview.setAttribute("data-preview-state", "ready");
      })
      .catch(function () {
        if (number === requestNumber) preview.setAttribute("data-preview-state", "failed");
      });
  }

  function applyJson() {
    var raw = document.getElementById("builder-json");
    var message = document.getElementById("builder-json-error");
    try {
      var parsed = JSON.parse(raw.value);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the definition must be an object");
      root = parsed;
      message.textContent = "";
      rerender();
    } catch (error) {
      message.textContent = "Not valid JSON: " + error.message;
    }
  }

  function start() {
    container = document.getElementById("builder");
    if (!container) return;
    catalogue = JSON.parse(document.getElementById("builder-catalogue").textContent);
    root = JSON.parse(document.getElementById("builder-definition").textContent) || {};
    if (!root.type) root.type = "group";
    if (!root.operator) root.operator = "and";
    if (!root.conditions) root.conditions = [];
    hidden = document.querySelector("input[name=definition]");
    preview = document.getElementById("preview");
    previewUrl = container.getAttribute("data-preview-url");
    segmentId = container.getAttribute("data-segment-id");
    var apply = document.getElementById("builder-json-apply");
    if (apply) apply.addEventListener("click", applyJson);
    rerender();
    var initial = document.getElementById("builder-errors");
    if (initial) showErrors(JSON.parse(initial.textContent));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
