// Small DOM helpers. Server text only ever reaches the page through textContent and
// attributes, never through innerHTML.

/** Create an element: `el("td", { className: "x", dataset: { k: "v" } }, child, "text")`. */
export function el(tag, properties = {}, ...children) {
  const node = document.createElement(tag);
  const { dataset, attributes, ...rest } = properties;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset || {});
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** Set text only when it changed, so screen readers and selections are not disturbed. */
export function setText(node, text) {
  const value = text ?? "";
  if (node.textContent !== value) node.textContent = value;
}

/** Set or remove an attribute, only when it changed. */
export function setAttribute(node, name, value) {
  if (value === null || value === undefined || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

/**
 * Make `tbody` show one row per item, in order, keyed by `keyOf(item)`.
 *
 * Rows are kept across updates (created once by `create`, refreshed by `update`), so a
 * focused button, an open traceback or a text selection survives the live refresh; rows
 * that move get their focus back.
 */
export function syncRows(tbody, items, keyOf, create, update) {
  const focused = tbody.contains(document.activeElement) ? document.activeElement : null;
  const existing = new Map([...tbody.rows].map((row) => [row.dataset.key, row]));
  let previous = null;
  for (const item of items) {
    const key = keyOf(item);
    let row = existing.get(key);
    if (row) {
      existing.delete(key);
    } else {
      row = create(item);
      row.dataset.key = key;
    }
    update(row, item);
    const expected = previous ? previous.nextElementSibling : tbody.firstElementChild;
    if (row !== expected) tbody.insertBefore(row, expected);
    previous = row;
  }
  for (const row of existing.values()) row.remove();
  if (focused && focused.isConnected && document.activeElement !== focused) {
    focused.focus({ preventScroll: true });
  }
}

/** A badge: coloured text, never colour alone. `kind` picks the colour. */
export function updateBadge(node, text, kind) {
  setText(node, text);
  const className = `badge badge-${kind}`;
  if (node.className !== className) node.className = className;
}

/** Fill a <time> element with relative text and the exact moment as its tooltip. */
export function updateTime(node, iso, text, title) {
  setText(node, text);
  setAttribute(node, "datetime", iso);
  setAttribute(node, "title", title);
}
