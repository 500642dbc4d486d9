// @ts-check
// The framework switch in the page header: PyTorch, TensorFlow, or both side by side.
//
// The view lives in three places that must agree: the attribute on <html> that the
// stylesheet lays out by (set before the body is parsed by the inline script of
// framework_view.py), the checked radio input of every framework tab set (sphinx-design's
// tabs), and sphinx-design's stored choice for the `framework` sync group, which this
// extends with a third value, "side-by-side". Tabbed views are sphinx-design's own:
// choosing one checks the same inputs its script would. Side by side leaves the inputs
// as they are (PyTorch unless the reader chose otherwise), so going back to tabs always
// finds one tab checked in every set.
(() => {
  "use strict";

  const GROUP = "framework";
  const SIDE_BY_SIDE = "side-by-side";
  const TABBED = "tabbed";
  const VIEW_ATTRIBUTE = "data-nnbook-view";
  /** The switch's choices, in order: [view, label]. */
  const VIEWS = [
    ["pytorch", "PyTorch"],
    ["tensorflow", "TensorFlow"],
    [SIDE_BY_SIDE, "Side by side"],
  ];
  const SET_SELECTOR = "div.sd-tab-set.nnbook-framework-set";
  const LABEL_SELECTOR = `${SET_SELECTOR} > label.sd-tab-label[data-sync-group="${GROUP}"]`;
  const root = document.documentElement;
  // Empty when sphinx-design's tab memory is turned off: the view is then not kept either.
  const storageKey = document.currentScript?.getAttribute("data-storage-key") || "";

  /** @param {string} view */
  function store(view) {
    if (!storageKey) return;
    try {
      window.localStorage.setItem(storageKey, view);
    } catch (error) {
      // storage blocked: the view still works on this page
    }
  }

  function isSideBySide() {
    return root.getAttribute(VIEW_ATTRIBUTE) === SIDE_BY_SIDE;
  }

  /** @param {Element} label @returns {HTMLInputElement | null} */
  function inputOf(label) {
    const input = document.getElementById(label.getAttribute("for") || "");
    return input instanceof HTMLInputElement ? input : null;
  }

  /** @returns {HTMLLabelElement[]} */
  function frameworkLabels() {
    return Array.from(document.querySelectorAll(LABEL_SELECTOR));
  }

  /** The framework the tabs show: that of the first set's checked tab. */
  function checkedFramework() {
    const checked = frameworkLabels().find((label) => inputOf(label)?.checked);
    return checked?.dataset.syncId || VIEWS[0][0];
  }

  function currentView() {
    return isSideBySide() ? SIDE_BY_SIDE : checkedFramework();
  }

  /** @param {string} framework */
  function checkFramework(framework) {
    for (const label of frameworkLabels()) {
      const input = inputOf(label);
      // `.checked` rather than a click: no change events, as sphinx-design's own sync
      if (input && label.dataset.syncId === framework) input.checked = true;
    }
  }

  /** A set with no checked tab would show nothing in tabbed view. */
  function checkFirstTabOfEmptySets() {
    for (const set of document.querySelectorAll(SET_SELECTOR)) {
      const inputs = Array.from(set.querySelectorAll(":scope > input[type=radio]"));
      if (inputs.length && !inputs.some((input) => input instanceof HTMLInputElement && input.checked)) {
        const first = inputs[0];
        if (first instanceof HTMLInputElement) first.checked = true;
      }
    }
  }

  /** @param {string} view */
  function applyView(view) {
    const wasSideBySide = isSideBySide();
    root.setAttribute(VIEW_ATTRIBUTE, view === SIDE_BY_SIDE ? SIDE_BY_SIDE : TABBED);
    if (view !== SIDE_BY_SIDE) checkFramework(view);
    if (wasSideBySide !== isSideBySide()) closeSidebars();
    store(view);
    updateSwitch();
  }

  const SIDEBARS = [
    [".bd-header-article .primary-toggle", "pst-primary-sidebar"],
    [".bd-header-article .secondary-toggle", "pst-secondary-sidebar"],
  ];
  const SIDEBAR_OPEN = "nnbook-sidebar-open";
  const wideEnoughForColumns = window.matchMedia("screen and (min-width: 1200px)");

  function closeSidebars() {
    for (const [toggle, id] of SIDEBARS) {
      document.getElementById(id)?.classList.remove(SIDEBAR_OPEN);
      document.querySelector(toggle)?.removeAttribute("aria-expanded");
    }
  }

  /**
   * Side by side on a wide screen folds both sidebars (nnbook.css); the article
   * header's toggles unfold them. The theme's own handlers are bound to the first
   * toggles of the page, those of the hidden top navbar, so these buttons would
   * otherwise do nothing.
   */
  function letTogglesUnfoldSidebars() {
    for (const [selector, id] of SIDEBARS) {
      const toggle = document.querySelector(selector);
      const sidebar = document.getElementById(id);
      if (!toggle || !sidebar) continue;
      toggle.addEventListener(
        "click",
        (event) => {
          if (!isSideBySide() || !wideEnoughForColumns.matches) return;
          event.preventDefault();
          event.stopImmediatePropagation();
          const open = sidebar.classList.toggle(SIDEBAR_OPEN);
          toggle.setAttribute("aria-expanded", String(open));
        },
        true,
      );
    }
  }

  /**
   * Change the layout without moving what the reader is looking at.
   * @param {Element | null} anchor @param {() => void} change
   */
  function keepingInPlace(anchor, change) {
    const before = anchor?.getBoundingClientRect().top;
    change();
    if (anchor && before !== undefined) {
      window.scrollBy(0, anchor.getBoundingClientRect().top - before);
    }
  }

  /** The first block of the article that reaches below the sticky header. */
  function blockInView() {
    const header = document.querySelector(".bd-header-article");
    const headerBottom = header ? header.getBoundingClientRect().bottom : 0;
    const blocks = document.querySelectorAll(`.bd-article section > *`);
    for (const block of blocks) {
      if (block.tagName !== "SECTION" && block.getBoundingClientRect().bottom > headerBottom) {
        return block;
      }
    }
    return null;
  }

  /** @type {HTMLInputElement[]} */
  let switchInputs = [];

  function updateSwitch() {
    const view = currentView();
    for (const input of switchInputs) input.checked = input.value === view;
  }

  /** The labelled radio group, first of the article header's buttons. */
  function buildSwitch() {
    const end =
      document.querySelector(".bd-header-article .article-header-buttons") ||
      document.querySelector(".bd-header-article .header-article-items__end");
    if (!end) return;
    const group = document.createElement("div");
    group.className = "nnbook-view-switch";
    group.setAttribute("role", "radiogroup");
    const caption = document.createElement("span");
    caption.id = "nnbook-view-caption";
    caption.className = "nnbook-view-caption";
    caption.textContent = "Code:";
    group.setAttribute("aria-labelledby", caption.id);
    group.append(caption);
    for (const [view, text] of VIEWS) {
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "nnbook-view";
      input.id = `nnbook-view-${view}`;
      input.value = view;
      input.addEventListener("change", () => {
        if (input.checked) keepingInPlace(blockInView(), () => applyView(view));
      });
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.textContent = text;
      group.append(input, label);
      switchInputs.push(input);
    }
    end.prepend(group);
    updateSwitch();
  }

  function explainTabLabels() {
    for (const label of frameworkLabels()) {
      const name = label.textContent?.trim();
      label.title = `Show only ${name}`;
    }
  }

  function ready() {
    if (!document.querySelector(SET_SELECTOR)) return;
    checkFirstTabOfEmptySets();
    explainTabLabels();
    buildSwitch();
    letTogglesUnfoldSidebars();

    // A tab label clicked while side by side asks for that framework alone; capture
    // runs before the label checks its input, which then changes nothing.
    document.addEventListener(
      "click",
      (event) => {
        const target = event.target;
        const label = target instanceof Element ? target.closest(LABEL_SELECTOR) : null;
        if (!(label instanceof HTMLElement) || !isSideBySide()) return;
        const framework = label.dataset.syncId || VIEWS[0][0];
        keepingInPlace(label.parentElement, () => applyView(framework));
      },
      true,
    );

    // A tab chosen with the keyboard (arrow keys on the radio inputs), or any tab
    // change in tabbed view: sphinx-design has synced and stored it; follow it.
    document.addEventListener("change", (event) => {
      const input = event.target;
      if (!(input instanceof HTMLInputElement) || !input.checked) return;
      const label = input.nextElementSibling;
      if (!(label instanceof HTMLElement) || !label.matches(LABEL_SELECTOR)) return;
      if (isSideBySide()) {
        applyView(label.dataset.syncId || VIEWS[0][0]);
      } else {
        updateSwitch();
      }
    });
  }

  // A deferred script runs before DOMContentLoaded (readyState is already
  // "interactive"); its handler, registered after sphinx-design's, runs once the
  // stored tabs are restored.
  if (document.readyState === "complete") {
    ready();
  } else {
    document.addEventListener("DOMContentLoaded", ready);
  }
})();
