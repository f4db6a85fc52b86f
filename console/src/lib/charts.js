// ECharts, loaded only by the pages that draw a chart: its chunk is not part of the first page.
let loading = null;

export function loadECharts() {
  loading ||= import("./echarts-setup.js").then(module => module.default);
  return loading;
}

// A report's chart as the API gives it ({type, x, series: [{name, data}]}) as ECharts options.
export function options(chart) {
  const numbers = data => data.map(Number);
  if (chart.type === "pie") {
    return {
      animation: false,
      tooltip: { trigger: "item" },
      legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: ["30%", "65%"], center: ["50%", "45%"], name: chart.series[0].name,
                 data: chart.x.map((name, i) => ({ name, value: Number(chart.series[0].data[i]) }))
                   .filter(point => point.value > 0) }],
    };
  }
  return {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { bottom: 0, type: "scroll" },
    grid: { left: 60, right: 16, top: 16, bottom: 48 },
    xAxis: { type: "category", data: chart.x },
    yAxis: { type: "value" },
    series: chart.series.map(s => ({ type: chart.type === "bar" ? "bar" : "line", name: s.name, data: numbers(s.data) })),
  };
}
