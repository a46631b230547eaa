// galaxy's web page: classify dropped cutouts, browse a catalog's
// predictions, see similar galaxies, read the model's card. Everything goes
// through the JSON API the README lists (/v1/...); no external resources.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
let model = null; // GET /v1/model
let lastBrowse = "#/browse"; // the browse view a detail view goes back to

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const pct = (p) => (100 * p).toFixed(1) + "%";

// getJSON fetches a /v1 endpoint and throws its JSON error as an Error.
async function getJSON(url, init) {
  const r = await fetch(url, init);
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// bars draws ranked classes ([{class, name, p}]) as bars of probability.
function bars(ranked) {
  const box = el("div", { class: "bars", role: "list", "aria-label": "classes by probability" });
  for (const r of ranked) {
    const fill = el("div", { class: "fill" });
    fill.style.width = (100 * r.p).toFixed(2) + "%";
    box.append(el("div", { class: "bar", role: "listitem", "data-class": r.name, "data-p": String(r.p) },
      el("span", { class: "class-name", text: r.name }),
      el("span", { class: "track", "aria-hidden": "true" }, fill),
      el("span", { class: "p", text: pct(r.p) })));
  }
  return box;
}

function show(templateId) {
  const view = $("#view");
  view.replaceChildren($(templateId).content.cloneNode(true));
  return view;
}

// ---- Classify ------------------------------------------------------------

function classifyView() {
  const view = show("#t-classify");
  const drop = $("#drop", view), input = $("#files", view);
  drop.addEventListener("click", (e) => { if (e.target !== input) input.click(); });
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
  });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    classifyFiles([...e.dataTransfer.files]);
  });
  input.addEventListener("change", () => classifyFiles([...input.files]));
}

async function classifyFiles(files) {
  const results = $("#results");
  results.replaceChildren();
  document.body.dataset.pending = String(files.length);
  for (const f of files) {
    const card = el("article", { class: "result", "data-name": f.name, "aria-busy": "true" }, el("h3", { text: f.name }));
    results.append(card);
    try {
      const res = await getJSON("/v1/classify?images=1", { method: "POST", body: f });
      renderResult(card, res);
    } catch (err) {
      card.append(el("p", { class: "error", role: "alert", text: f.name + ": " + err.message }));
    }
    card.removeAttribute("aria-busy");
    document.body.dataset.pending = String(Number(document.body.dataset.pending) - 1);
  }
}

function renderResult(card, res) {
  const images = res.images;
  delete res.images; // "copy as JSON" gives the API's answer without ?images
  card.append(
    el("figure", {}, el("img", { class: "view", src: images.original, alt: "the cutout " + card.dataset.name }),
      el("figcaption", { text: "the cutout" })),
    el("figure", {}, el("img", { class: "view pixels", src: images.prepared, alt: "the cutout as the model sees it" }),
      el("figcaption", { text: "as the model sees it" })));
  const side = el("div", { class: "bars" }, bars(res.ranked));
  if (res.warning) side.append(el("p", { class: "warning", role: "note", text: "Warning: " + res.warning }));
  const json = JSON.stringify(res, null, 2);
  const copy = el("button", { type: "button", class: "copy", text: "Copy as JSON" });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(json);
      copy.textContent = "Copied";
    } catch {
      const ta = el("textarea", { rows: "8", cols: "40", "aria-label": "the answer as JSON", readonly: true });
      ta.value = json;
      copy.replaceWith(ta);
      ta.select();
    }
  });
  side.append(copy);
  card.append(side);
  card.dataset.json = json;
}

// ---- Browse --------------------------------------------------------------

const PAGE = 60;

function hashParams() {
  const h = location.hash, i = h.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : h.slice(i + 1));
}

async function browseView() {
  const view = show("#t-browse");
  const p = hashParams();
  const form = $("#filters", view);
  const q = {
    class: p.get("class") || "-1", pmin: p.get("pmin") || "0", pmax: p.get("pmax") || "1",
    warned: p.get("warned") === "true", sort: p.get("sort") || "row", order: p.get("order") || "asc",
    offset: Number(p.get("offset") || 0),
  };
  $("#f-pmin", view).value = q.pmin;
  $("#f-pmax", view).value = q.pmax;
  $("#f-warned", view).checked = q.warned;
  $("#f-sort", view).value = q.sort;
  $("#f-order", view).value = q.order;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const n = new URLSearchParams({
      class: $("#f-class").value, pmin: $("#f-pmin").value || "0", pmax: $("#f-pmax").value || "1",
      warned: String($("#f-warned").checked), sort: $("#f-sort").value, order: $("#f-order").value, offset: "0",
    });
    location.hash = "#/browse?" + n;
  });
  const api = new URLSearchParams({ class: q.class, pmin: q.pmin, pmax: q.pmax, warned: String(q.warned), sort: q.sort, order: q.order, offset: String(q.offset), limit: String(PAGE) });
  let page;
  try {
    page = await getJSON("/v1/catalog?" + api);
  } catch (err) {
    $("#count", view).replaceChildren(el("span", { class: "error", role: "alert", text: err.message }));
    return;
  }
  const sel = $("#f-class", view);
  page.classes.forEach((name, c) => sel.append(el("option", { value: String(c), text: `${name} (${page.counts[c]})` })));
  sel.value = q.class;
  $("#count", view).textContent = `${page.matched} of ${page.total} galaxies`;
  $("#count", view).dataset.matched = String(page.matched);
  const grid = $("#grid", view);
  for (const r of page.rows) grid.append(tile(r));
  const go = (offset) => { p.set("offset", String(offset)); location.hash = "#/browse?" + p; };
  const last = Math.max(0, Math.ceil(page.matched / PAGE) - 1), cur = Math.floor(q.offset / PAGE);
  $("#page", view).textContent = `page ${cur + 1} of ${last + 1}`;
  const prev = $("#prev", view), next = $("#next", view);
  prev.disabled = cur <= 0;
  next.disabled = cur >= last;
  prev.addEventListener("click", () => go(Math.max(0, q.offset - PAGE)));
  next.addEventListener("click", () => go(q.offset + PAGE));
  lastBrowse = location.hash;
  document.body.dataset.view = location.hash;
  document.body.dataset.ready = "browse";
}

function tile(r) {
  const label = (r.error ? "error" : `${r.class_name} ${pct(r.p)}`) + (r.warning ? " · warned" : "");
  const alt = `galaxy ${r.id}: ${r.error ? r.error : r.class_name + ", p " + pct(r.p)}${r.warning ? ", warned: " + r.warning : ""}`;
  return el("a", { class: "tile" + (r.warning ? " warned" : ""), href: "#/galaxy/" + r.row, "data-row": String(r.row), "data-class": r.class_name || "" },
    el("img", { src: r.thumb, alt, loading: "lazy", width: "96", height: "96" }),
    el("span", { text: label }));
}

// ---- One galaxy ----------------------------------------------------------

async function detailView(row) {
  const view = show("#t-detail");
  $("#back", view).href = lastBrowse;
  let d;
  try {
    d = await getJSON("/v1/catalog/" + encodeURIComponent(row));
  } catch (err) {
    $("#h-detail", view).replaceChildren(el("span", { class: "error", role: "alert", text: err.message }));
    return;
  }
  $("#h-detail", view).textContent = `Galaxy ${d.id}` + (d.class_name ? ` — ${d.class_name}` : "");
  const orig = $("#d-original", view), prep = $("#d-prepared", view);
  orig.src = d.thumb + "?size=256";
  orig.alt = `the cutout of galaxy ${d.id}`;
  prep.src = d.prepared;
  prep.alt = `galaxy ${d.id} as the model sees it`;
  if (d.error) $("#d-bars", view).append(el("p", { class: "error", text: d.error }));
  else $("#d-bars", view).append(bars(d.ranked));
  if (d.warning) {
    const w = $("#d-warning", view);
    w.hidden = false;
    w.textContent = "Warning: " + d.warning;
  }
  const facts = $("#d-facts", view);
  const fact = (k, v) => { if (v !== undefined && v !== null && v !== "") facts.append(el("dt", { text: k }), el("dd", { text: String(v) })); };
  fact("id", d.id);
  fact("file", d.file);
  fact("row", d.row);
  fact("novelty", d.novelty === null ? null : d.novelty.toFixed(3));
  for (const [k, v] of Object.entries(d.carried || {})) fact(k, v);
  if (d.similar) {
    $("#d-similar-box", view).hidden = false;
    const grid = $("#similar", view);
    try {
      const s = await getJSON(d.similar + "?k=10");
      for (const n of s.neighbours) grid.append(neighbour(n));
    } catch (err) {
      grid.append(el("p", { class: "error", role: "alert", text: err.message }));
    }
  }
  document.body.dataset.ready = "detail";
}

function neighbour(n) {
  const text = `${n.label || n.id} · ${n.similarity.toFixed(3)}`;
  const alt = `galaxy ${n.id}${n.label ? ", " + n.label : ""}, similarity ${n.similarity.toFixed(3)}`;
  const img = n.thumb ? el("img", { src: n.thumb, alt, width: "96", height: "96" }) : null;
  const attrs = { class: "tile neighbour", "data-id": n.id };
  if (n.row === null) return el("div", attrs, img, el("span", { text }));
  return el("a", { ...attrs, href: "#/galaxy/" + n.row }, img, el("span", { text }));
}

// ---- The model -----------------------------------------------------------

function modelView() {
  const view = show("#t-model");
  const dl = $("#card", view), c = model.card;
  const fact = (k, v) => { if (v !== undefined && v !== null && v !== "") dl.append(el("dt", { text: k }), el("dd", { text: String(v) })); };
  fact("model", model.name);
  fact("architecture", c.arch);
  fact("classes", c.classes.join(", ") + ` (scheme ${c.scheme})`);
  fact("input", c.input);
  fact("weights", c.weights.toLocaleString("en"));
  fact("training data", c.training_data);
  fact("fine-tuned from", c.fine_tuned_from);
  fact("trained on", c.train_n ? `${c.train_n} galaxies` : null);
  fact("test accuracy", c.test_accuracy === undefined ? null : `${c.test_accuracy.toFixed(3)} on ${c.test_n} unseen galaxies`);
  fact("balanced accuracy", c.test_balanced_accuracy === undefined ? null : c.test_balanced_accuracy.toFixed(3));
  fact("calibrated", c.temperature ? `yes (temperature ${c.temperature.toFixed(3)})` : "no");
  fact("novelty warnings", c.novelty ? "yes" : "no");
  fact("epochs", c.epochs);
  fact("seed", c.seed);
  fact("trained", c.trained);
  document.body.dataset.ready = "model";
}

// ---- Routing -------------------------------------------------------------

function route() {
  const h = location.hash || "#/classify";
  const name = h.slice(2).split(/[/?]/)[0];
  delete document.body.dataset.ready;
  for (const a of document.querySelectorAll("header nav a")) {
    if (a.id === "nav-" + (name === "galaxy" ? "browse" : name)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (name === "browse") browseView();
  else if (name === "galaxy") detailView(h.split("/")[2]);
  else if (name === "model") modelView();
  else classifyView();
  $("#view").focus({ preventScroll: true });
}

async function start() {
  try {
    model = await getJSON("/v1/model");
  } catch (err) {
    $("#view").replaceChildren(el("p", { class: "error", role: "alert", text: "The model: " + err.message }));
    return;
  }
  $("#model-line").textContent = `${model.name || "model"}: ${model.arch}, ${model.classes.join(", ")}`;
  $("#nav-browse").hidden = !model.catalog;
  window.addEventListener("hashchange", route);
  route();
}

start();
