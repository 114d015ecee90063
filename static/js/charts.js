// Draws the Plotly figures the server sends as JSON data blocks: <div id="X"> followed by
// <script type="application/json" id="X-figure">. No inline script: the CSP allows none.
// A figure without a template gets the page's (<script id="plotly-template">, sent once
// rather than in each figure).
(function () {
  "use strict";
  var SUFFIX = "-figure";

  function draw(root) {
    var template = document.getElementById("plotly-template");
    (root || document).querySelectorAll('script[type="application/json"][id$="' + SUFFIX + '"]')
      .forEach(function (block) {
        var box = document.getElementById(block.id.slice(0, -SUFFIX.length));
        if (!box || box.dataset.drawn) return;
        box.dataset.drawn = "1";
        var figure = JSON.parse(block.textContent);
        if (template && !figure.layout.template) {
          figure.layout.template = JSON.parse(template.textContent);
        }
        Plotly.newPlot(box, figure.data, figure.layout, figure.config);
      });
  }

  // Pages that replace a fragment (the run page's live results) call this on the new content.
  window.tuneboardCharts = { draw: draw };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(); });
  } else {
    draw();
  }
})();
