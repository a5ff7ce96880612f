// django-signal-panel: behaviour of the SignalPanel (filtering the timeline, folding nested rows,
// jumping from a problem to its place, sorting the by-receiver table).
// An ES module returned by the panel's `scripts`; bound on the toolbar's `djdt.panel.render` event.
// Folding uses the toolbar's own toggle pattern (.djToggleSwitch, djToggleDetails_<id>, djSelected /
// djUnselected); this module only keeps nested levels consistent after the toolbar's handler ran.

const PANEL_ID = "SignalPanel";
const OPEN = "-";
const CLOSED = "+";

function debugElement() {
    let root = document.getElementById("djDebugRoot");
    if (root?.shadowRoot) {
        root = root.shadowRoot;
    }
    return (root || document).querySelector("#djDebug");
}

/** What the timeline's rows are, read once per rendering of the panel. */
class Timeline {
    constructor(panel) {
        this.panel = panel;
        this.table = panel.querySelector(".spTimeline");
        this.rows = this.table ? [...this.table.tBodies[0].rows] : [];
        this.byId = new Map();
        this.children = new Map();
        this.parentOf = new Map();
        for (const row of this.rows) {
            const id = row.id.slice("spRow_".length);
            this.byId.set(id, row);
            const parent = /\bdjToggleDetails_(\S+)/.exec(row.className);
            if (parent) {
                this.parentOf.set(id, parent[1]);
                if (!this.children.has(parent[1])) {
                    this.children.set(parent[1], []);
                }
                this.children.get(parent[1]).push(row);
            }
        }
        this.texts = null;
    }

    idOf(row) {
        return row.id.slice("spRow_".length);
    }

    switchOf(row) {
        return row.querySelector(":scope > td > .djToggleSwitch");
    }

    show(row, visible) {
        if (!this.parentOf.has(this.idOf(row))) {
            return; // Top-level rows are always shown (unless filtered out).
        }
        row.classList.toggle("djSelected", visible);
        row.classList.toggle("djUnselected", !visible);
    }

    /** Hide everything below `id`; its switch shows "+". */
    close(id) {
        const row = this.byId.get(id);
        const button = row && this.switchOf(row);
        if (button) {
            button.textContent = CLOSED;
        }
        for (const child of this.children.get(id) || []) {
            this.show(child, false);
            this.close(this.idOf(child));
        }
    }

    /** Show the rows right below `id`: sends with their receiver calls, calls folded. */
    open(id) {
        const row = this.byId.get(id);
        const button = row && this.switchOf(row);
        if (button) {
            button.textContent = OPEN;
        }
        for (const child of this.children.get(id) || []) {
            this.show(child, true);
            if (this.isSend(child)) {
                this.open(this.idOf(child));
            } else {
                this.close(this.idOf(child));
            }
        }
    }

    isSend(row) {
        return row.classList.contains("spSend") && !row.classList.contains("spRun");
    }

    /** After the toolbar's handler toggled `id`: make the levels below it agree. */
    settle(id) {
        const row = this.byId.get(id);
        const button = row && this.switchOf(row);
        if (!button) {
            return;
        }
        if (button.textContent === OPEN) {
            this.open(id);
        } else {
            this.close(id);
        }
    }

    expandAll() {
        for (const row of this.rows) {
            this.show(row, true);
            const button = this.switchOf(row);
            if (button) {
                button.textContent = OPEN;
            }
        }
    }

    collapseAll() {
        for (const row of this.rows) {
            if (!this.parentOf.has(this.idOf(row))) {
                this.close(this.idOf(row));
            }
        }
    }

    /** Open every level above the row with this id, so it can be seen. */
    reveal(id) {
        const path = [];
        for (let at = this.parentOf.get(id); at; at = this.parentOf.get(at)) {
            path.unshift(at);
        }
        for (const at of path) {
            const row = this.byId.get(at);
            const button = row && this.switchOf(row);
            if (button && button.textContent !== OPEN) {
                this.open(at);
            }
        }
    }

    text(row) {
        if (this.texts === null) {
            this.texts = new Map();
            for (const each of this.rows) {
                const parts = [];
                for (const cell of each.querySelectorAll(".spQ")) {
                    parts.push(cell.textContent, cell.title || "");
                }
                this.texts.set(each, parts.join(" ").toLowerCase());
            }
        }
        return this.texts.get(row);
    }

    /** Show the sends whose signal, sender or receivers contain `query`, with their ancestors. */
    filter(query) {
        const needle = query.trim().toLowerCase();
        for (const row of this.rows) {
            row.classList.remove("spIn", "spOut");
        }
        if (!needle) {
            return null;
        }
        const shown = new Set();
        let matches = 0;
        for (const row of this.rows) {
            if (!row.classList.contains("spSend")) {
                continue;
            }
            const id = this.idOf(row);
            // Its receiver calls, with those folded under a library's row (spPackage).
            const calls = [];
            for (const child of this.children.get(id) || []) {
                if (!child.classList.contains("spCall")) {
                    continue;
                }
                calls.push(child);
                if (child.classList.contains("spPackage")) {
                    calls.push(...(this.children.get(this.idOf(child)) || []));
                }
            }
            const own = this.text(row).includes(needle);
            const hits = calls.filter((call) => this.text(call).includes(needle));
            if (!own && hits.length === 0) {
                continue;
            }
            matches += 1;
            shown.add(row);
            for (const call of own ? calls : hits) {
                shown.add(call);
                const parent = this.byId.get(this.parentOf.get(this.idOf(call)));
                if (parent?.classList.contains("spPackage")) {
                    shown.add(parent);
                }
            }
            for (let at = this.parentOf.get(id); at; at = this.parentOf.get(at)) {
                shown.add(this.byId.get(at));
            }
        }
        for (const row of this.rows) {
            row.classList.add(shown.has(row) ? "spIn" : "spOut");
        }
        return matches;
    }
}

const timelines = new WeakMap();

function timelineOf(panel) {
    let timeline = timelines.get(panel);
    if (!timeline) {
        timeline = new Timeline(panel);
        timelines.set(panel, timeline);
    }
    return timeline;
}

function panelOf(element) {
    return element.closest(".spPanel");
}

function highlight(panel, row) {
    for (const old of panel.querySelectorAll("tr.djdt-highlighted")) {
        old.classList.remove("djdt-highlighted");
    }
    row.classList.add("djdt-highlighted");
    row.scrollIntoView({ block: "center" });
    const button = row.querySelector(".djToggleSwitch");
    (button || row).focus?.({ preventScroll: true });
}

function jump(link) {
    const panel = panelOf(link);
    if (link.dataset.spTarget) {
        panel.querySelector(`#${link.dataset.spTarget}`)?.scrollIntoView({ block: "start" });
        return;
    }
    const timeline = timelineOf(panel);
    const row = timeline.byId.get(link.dataset.spRow);
    if (!row) {
        return;
    }
    const filter = panel.querySelector(".spFilter");
    if (filter?.value) {
        filter.value = "";
        applyFilter(filter);
    }
    timeline.reveal(link.dataset.spRow);
    highlight(panel, row);
}

// Why not run?: the filter that finds a receiver in the timeline also says why it did not run,
// showing the rows of that receiver (the likely ones are shown anyway when the filter is empty).
function filterMissed(panel, query) {
    const needle = query.trim().toLowerCase();
    let matches = 0;
    for (const row of panel.querySelectorAll("table.spMissed tbody tr")) {
        row.classList.remove("spIn", "spOut");
        if (!needle) {
            continue;
        }
        const name = row.querySelector(".spMissName")?.textContent.toLowerCase() || "";
        const hit = name.includes(needle);
        row.classList.add(hit ? "spIn" : "spOut");
        matches += hit ? 1 : 0;
    }
    return matches;
}

function applyFilter(input) {
    const panel = panelOf(input);
    const missed = filterMissed(panel, input.value);
    const matches = timelineOf(panel).filter(input.value);
    const status = panel.querySelector(".spFilterStatus");
    if (status) {
        // The label comes translated from the template.
        const notRun = missed ? ` · ${status.dataset.spMissed} ${missed}` : "";
        status.textContent = matches === null ? "" : `${status.dataset.spLabel} ${matches}${notRun}`;
    }
}

// The registry's filter: a signal's row stays while its name or one of its receivers' rows
// matches; the receiver rows that match are shown, unfolded.
function filterRegistry(input) {
    const table = panelOf(input).querySelector("table.spRegistry");
    if (!table) {
        return;
    }
    const needle = input.value.trim().toLowerCase();
    let group = null;
    let groupRows = [];
    const finish = () => {
        if (group === null) {
            return;
        }
        const own = group.textContent.toLowerCase().includes(needle);
        const matching = groupRows.filter((row) => own || row.textContent.toLowerCase().includes(needle));
        group.hidden = needle !== "" && matching.length === 0;
        for (const row of groupRows) {
            row.hidden = needle !== "" && !matching.includes(row);
            if (needle !== "" && !row.hidden) {
                row.classList.replace("djUnselected", "djSelected");
            }
        }
    };
    for (const row of table.tBodies[0].rows) {
        if (row.classList.contains("spSend")) {
            finish();
            group = row;
            groupRows = [];
        } else {
            groupRows.push(row);
        }
    }
    finish();
}

function sortBy(button) {
    const th = button.closest("th");
    const table = th.closest("table");
    const column = th.cellIndex;
    const numeric = button.dataset.spKind === "number";
    const descending = th.getAttribute("aria-sort") !== "descending";
    for (const other of th.parentElement.cells) {
        other.removeAttribute("aria-sort");
    }
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    const body = table.tBodies[0];
    const key = (row) => {
        const cell = row.cells[column];
        return numeric ? Number.parseFloat(cell.dataset.spValue) : cell.textContent.trim();
    };
    const rows = [...body.rows].sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        const order = numeric ? x - y : x.localeCompare(y);
        return descending ? -order : order;
    });
    body.append(...rows);
}

let filterTimer = null;

function bind(djDebug) {
    if (djDebug.dataset.spBound) {
        return;
    }
    djDebug.dataset.spBound = "true";
    djDebug.addEventListener("click", (event) => {
        const target = event.target;
        if (!(target instanceof Element) || !target.closest(`#${PANEL_ID}`)) {
            return;
        }
        const toggle = target.closest(".spTimeline .djToggleSwitch");
        if (toggle) {
            // The toolbar's own handler (also on #djDebug) toggles the direct children; settle
            // the deeper levels once every handler of this click has run.
            const panel = panelOf(toggle);
            setTimeout(() => timelineOf(panel).settle(toggle.dataset.toggleId), 0);
            return;
        }
        const link = target.closest(".spJump");
        if (link) {
            event.preventDefault();
            jump(link);
            return;
        }
        const sort = target.closest(".spSort");
        if (sort) {
            sortBy(sort);
            return;
        }
        if (target.closest(".spExpandAll")) {
            timelineOf(panelOf(target)).expandAll();
        } else if (target.closest(".spCollapseAll")) {
            timelineOf(panelOf(target)).collapseAll();
        }
    });
    djDebug.addEventListener("change", (event) => {
        const input = event.target;
        if (input instanceof HTMLInputElement && input.matches(`#${PANEL_ID} .spShowQuiet`)) {
            panelOf(input).classList.toggle("spQuietShown", input.checked);
        }
    });
    djDebug.addEventListener("input", (event) => {
        const input = event.target;
        if (input instanceof Element && input.matches(`#${PANEL_ID} .spFilter`)) {
            clearTimeout(filterTimer);
            filterTimer = setTimeout(() => applyFilter(input), 120);
        } else if (input instanceof Element && input.matches(`#${PANEL_ID} .spRegistryFilter`)) {
            filterRegistry(input);
        }
    });
    djDebug.addEventListener("keydown", (event) => {
        const input = event.target;
        if (event.key === "Enter" && input instanceof Element && input.matches(".spFilter")) {
            clearTimeout(filterTimer);
            applyFilter(input);
        }
    });
}

function setUp() {
    const djDebug = debugElement();
    if (djDebug) {
        bind(djDebug);
        djDebug.addEventListener("djdt.panel.render", (event) => {
            if (event.detail?.panelId === PANEL_ID) {
                bind(djDebug);
            }
        });
    }
}

// The module may load after the panel's first render event: bind now, and on later renders.
setUp();
