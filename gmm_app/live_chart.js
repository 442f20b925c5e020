// GMM Explorer's live chart (see gmm_app/live_chart.py): one Plotly div per chart key,
// kept across reruns; every new figure is drawn into it with Plotly.react, which changes
// only what differs. Plotly.js is loaded once per browser tab from the app's static files.

function loadPlotly(url) {
  if (!window.__gmmPlotly) {
    window.__gmmPlotly = new Promise((resolve, reject) => {
      const earlier = window.Plotly;
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => {
        const plotly = window.Plotly;
        if (earlier !== undefined) window.Plotly = earlier; // leave any other copy in place
        resolve(plotly);
      };
      script.onerror = () => {
        window.__gmmPlotly = undefined;
        reject(new Error(`Plotly.js could not be loaded from ${url}`));
      };
      document.head.appendChild(script);
    });
  }
  return window.__gmmPlotly;
}

// chart.dataset.state: "waiting" (nothing drawn yet), "drawing", "drawn" or "failed".
async function draw(chart, args) {
  if (args.spec === chart.__spec && args.config === chart.__config) return;
  chart.dataset.state = "drawing";
  const figure = JSON.parse(args.spec);
  const layout = figure.layout || {};
  chart.style.height = `${layout.height || 450}px`;
  const title = layout.title && (layout.title.text || layout.title);
  chart.setAttribute("aria-label", typeof title === "string" ? title : "chart");
  const Plotly = await loadPlotly(args.plotly);
  const config = Object.assign(JSON.parse(args.config), { responsive: true });
  await Plotly.react(chart, {
    data: figure.data || [],
    layout: layout,
    frames: figure.frames || [],
    config: config,
  });
  chart.__spec = args.spec;
  chart.__config = args.config;
  chart.dataset.state = "drawn";
}

// A line of text above the chart saying why it is not drawn (null: remove it).
function showProblem(chart, text) {
  let note = chart.previousElementSibling;
  if (!note || !note.classList.contains("gmm-live-chart-problem")) {
    if (text === null) return;
    note = document.createElement("div");
    note.className = "gmm-live-chart-problem";
    note.setAttribute("role", "alert");
    chart.before(note);
  }
  if (text === null) note.remove();
  else note.textContent = text;
}

// One draw at a time per chart; a figure that arrives meanwhile replaces any still waiting.
async function drawLatest(chart, args) {
  chart.__next = args;
  if (chart.__drawing) return;
  chart.__drawing = true;
  try {
    while (chart.__next) {
      const next = chart.__next;
      chart.__next = null;
      try {
        await draw(chart, next);
        showProblem(chart, null);
      } catch (error) {
        chart.dataset.state = "failed";
        showProblem(chart, `This chart could not be drawn: ${error.message}`);
        console.error("live chart: the figure could not be drawn", error);
      }
    }
  } finally {
    chart.__drawing = false;
  }
}

export default function (component) {
  const { data, parentElement } = component;
  if (data.spec === undefined) {
    // The page's early call (preload_plotly): start loading Plotly.js while the server
    // still computes, so the first figure does not wait for it. A failure shows later, on
    // the chart that needs it.
    loadPlotly(data.plotly).catch(() => {});
    return;
  }
  let chart = parentElement.querySelector(":scope > .gmm-live-chart");
  if (!chart) {
    chart = document.createElement("div");
    chart.className = "gmm-live-chart";
    chart.dataset.state = "waiting";
    chart.style.width = "100%";
    // Focusable, so keyboard users can reach the chart; and the first tabbable element of
    // its tab panel, so the panel's check for one (react-aria's useHasTabbableChild, run
    // on every change inside the panel) stops here instead of walking every SVG node.
    chart.tabIndex = 0;
    chart.setAttribute("role", "figure");
    parentElement.appendChild(chart);
  }
  drawLatest(chart, data);
}
