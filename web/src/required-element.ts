/**
 * The first element under `root` that matches `selector`, checked to be a `type`
 * (e.g. `HTMLSelectElement`). The page's markup is part of the program: a missing
 * or different element is a bug, reported by its selector instead of as a later
 * TypeError on `null`.
 * @throws {Error} when nothing matches `selector` or the match is not a `type`.
 */
export function requiredElement<T extends Element>(root: ParentNode, selector: string, type: new () => T): T {
  const el = root.querySelector(selector);
  if (!(el instanceof type))
    throw new Error(
      el ? `${selector} is a <${el.tagName.toLowerCase()}>, not a ${type.name}` : `the page has no ${selector}`,
    );
  return el;
}
