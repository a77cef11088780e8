"""The chat page's CSS and JavaScript (kept as strings so they ship with the package)."""

CSS = """
.gradio-container { max-width: 1400px !important; }
#qa-examples { flex-wrap: wrap; gap: .4rem; }
#qa-examples button { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
#qa-try { margin-bottom: -.4rem; }
.qa-header h1 { font-size: 1.5rem; margin: 0 0 .2rem 0; }
.qa-header p { margin: .1rem 0; color: var(--body-text-color-subdued); }
.qa-header .qa-doc { font-weight: 600; color: var(--body-text-color); }
.qa-header .qa-how { font-size: .9em; }

.qa-q { white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-msg p { margin: .15rem 0 .35rem 0; }
.qa-msg .qa-short { font-size: 1.15em; font-weight: 700; }
.qa-msg .qa-short.qa-short-long { font-size: 1em; }
.qa-msg.qa-abstained .qa-short { color: #475569; }
.qa-msg.qa-tier-unsure { border-left: 4px solid #d97706; padding-left: .6rem; }
.qa-msg.qa-tier-unsure .qa-lead { color: #92400e; font-weight: 600; }
.qa-msg.qa-tier-unsure .qa-short { color: #92400e; }
.qa-msg .qa-tier { font-size: .9em; font-weight: 600; }
.qa-msg .qa-tier-line-confident { color: #15803d; }
.qa-msg .qa-tier-line-unsure { color: #b45309; }
.qa-msg .qa-understood, .qa-msg .qa-closest { color: var(--body-text-color-subdued); font-size: .92em; }
.qa-msg ol.qa-cites { list-style: none; padding-left: 0; margin: .3rem 0; }
.qa-msg ol.qa-cites li { margin: .3rem 0; line-height: 1.45; }
.qa-msg .qa-loc { color: var(--body-text-color-subdued); font-size: .85em; overflow-wrap: anywhere; }
.qa-msg.qa-error p { color: #b91c1c; }
a.qa-cite { font-weight: 700; text-decoration: none; cursor: pointer; padding: 0 .1em; }
a.qa-cite:hover { text-decoration: underline; }
mark { background: #fde047; color: inherit; padding: 0 .1em; border-radius: 2px; }

#qa-sources .html-container { padding: 0 !important; }
.qa-panel-wrap { height: 638px; display: flex; flex-direction: column;
                 border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
                 background: var(--background-fill-primary); }
.qa-panel-title { padding: .55rem .9rem; border-bottom: 1px solid var(--border-color-primary);
                  font-size: .92em; color: var(--body-text-color-subdued); }
.qa-panel-title strong { color: var(--body-text-color); }
.qa-panel { flex: 1; min-height: 0; overflow-y: auto; padding: .25rem .75rem .75rem .4rem; }
.qa-panel .qa-empty { color: var(--body-text-color-subdued); padding: 1rem; }
.qa-turn { margin: .5rem 0; border-bottom: 1px solid var(--border-color-primary); padding: 0 .5rem .5rem .5rem; }
.qa-turn summary { cursor: pointer; font-weight: 600; padding: .3rem 0; overflow-wrap: anywhere; }
.qa-turn:not([open]) summary { color: var(--body-text-color-subdued); font-weight: 400; }
.qa-turn .qa-turn-n { display: inline-block; min-width: 2em; color: var(--body-text-color-subdued); }
.qa-src { font-size: .82em; color: var(--body-text-color-subdued); margin-top: .6rem; }
.qa-passage { line-height: 1.65; margin: .2rem 0 .6rem 0; overflow-wrap: anywhere; }
.qa-passage .qa-ctx { color: var(--body-text-color-subdued); }
.qa-hl { background: #dbeafe; color: #0f172a; border-radius: 3px; padding: .05em .15em;
         box-decoration-break: clone; -webkit-box-decoration-break: clone; scroll-margin: 3rem; }
.qa-hl sup.qa-n { font-weight: 700; color: #1d4ed8; margin-right: .2em; }
.qa-nosay { font-weight: 600; color: #475569; margin-top: .5rem; }
.qa-closest-passage { border-left: 3px solid #fdba74; padding-left: .6rem; scroll-margin: 3rem; }
.qa-flash { animation: qa-flash 1.6s ease-out; }
@keyframes qa-flash { 0%, 35% { box-shadow: 0 0 0 3px #2563eb; } 100% { box-shadow: 0 0 0 0 transparent; } }
#qa-add-help p { font-size: .9em; color: var(--body-text-color-subdued); margin: 0; }
.qa-status { margin: .2rem 0; overflow-wrap: anywhere; }
.qa-status-ok { color: #15803d; font-weight: 600; }
.qa-status-error { color: #b91c1c; font-weight: 600; }
.qa-status-busy { color: var(--body-text-color-subdued); }
.dark .qa-hl { background: #1e3a8a; color: #f8fafc; }
.dark mark { background: #a16207; }
"""

# Runs once when the page loads. A click on a citation link ([1] in an answer) opens that answer's
# section of the source panel and scrolls the cited sentence into view inside it.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.qa-cite');
    if (!link) return;
    const id = (link.getAttribute('href') || '').replace(/^#/, '');
    const target = id && document.getElementById(id);
    event.preventDefault();
    event.stopPropagation();
    if (!target) return;
    const turn = target.closest('details');
    if (turn) turn.open = true;
    const panel = target.closest('.qa-panel');
    if (panel) {
      const top = target.getBoundingClientRect().top - panel.getBoundingClientRect().top + panel.scrollTop;
      panel.scrollTo({top: Math.max(0, top - panel.clientHeight / 3), behavior: 'instant'});
      const box = panel.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) panel.scrollIntoView({block: 'nearest'});
    } else {
      target.scrollIntoView({block: 'center'});
    }
    target.classList.remove('qa-flash');
    void target.offsetWidth;
    target.classList.add('qa-flash');
  }, true);
}
"""

# The source panel shows the newest answer first: scroll back to the top when it changes.
PANEL_JS = """
watch('value', () => {
  const panel = element.querySelector('.qa-panel');
  if (panel) panel.scrollTop = 0;
});
"""
