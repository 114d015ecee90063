// Run detail: live progress (polling, no reload), balanced-weight slider, monthly cost chart.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };

  function loadMonthly() {
    var box = $("monthly");
    if (!box || box.dataset.loaded) return;
    box.dataset.loaded = "1";
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { box.innerHTML = html; window.tuneboardCharts.draw(box); })
      .catch(function () { box.innerHTML = '<p class="error">The monthly cost chart could not be loaded.</p>'; });
  }

  // The balanced winner at each slider position was computed by the server when the run
  // finished (the same exact arithmetic as the stored recommendation).
  function initSlider() {
    var slider = $("balanced-weight"), data = $("balanced-slider"), card = $("rec-balanced");
    if (!slider || !data || !card) return;
    var winners = JSON.parse(data.textContent);
    slider.addEventListener("input", function () {
      var w = parseFloat(slider.value).toFixed(2);
      $("balanced-weight-value").textContent = w;
      var best = winners[w];
      if (!best) return;
      card.querySelector('[data-role="size"]').textContent = best.memory_mb.toLocaleString() + " MB";
      var cost = card.querySelector('[data-role="cost"]'), duration = card.querySelector('[data-role="duration"]');
      if (cost) cost.textContent = best.cost_label;
      if (duration) duration.textContent = best.duration_label;
      card.dataset.winner = best.memory_mb;
    });
  }

  function initResults() { initSlider(); loadMonthly(); }

  function setBar(bar, percent) {
    if (!bar) return;
    bar.setAttribute("aria-valuenow", percent);
    var fill = bar.querySelector("span");
    if (fill) fill.style.width = percent + "%";
  }

  // Fragments can arrive out of order; an older one must never replace a newer one (the
  // last, fetched once the run has finished, is the one with the recommendations).
  var resultsRequested = 0;
  function refreshResults() {
    var progress = $("progress"), request = ++resultsRequested;
    return fetch(progress.dataset.resultsUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        if (request !== resultsRequested) return;
        var results = $("results");
        results.innerHTML = html;
        window.tuneboardCharts.draw(results);
        initResults();
      })
      .catch(function () { if (request === resultsRequested) setTimeout(refreshResults, 3000); });
  }

  function poll() {
    var progress = $("progress");
    if (!progress || progress.dataset.active !== "true") return;
    var finishedSizes = -1;
    function tick() {
      fetch(progress.dataset.url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (p) {
          $("progress-phase").textContent = p.phase;
          var stalled = $("progress-stalled");
          stalled.textContent = p.stalled;
          stalled.hidden = !p.stalled;
          $("progress-done").textContent = p.done;
          $("progress-total").textContent = p.total;
          $("progress-percent").textContent = p.percent + "%";
          setBar($("progress-bar"), p.percent);
          var list = $("progress-sizes");
          p.sizes.forEach(function (s) {
            var item = list.querySelector('[data-memory="' + s.memory_mb + '"]');
            if (!item) return;
            setBar(item.querySelector(".progress"), s.percent);
            item.querySelector(".progress span").className = s.status_class;
            item.querySelector(".tb-size-count").textContent = s.done + "/" + s.total;
            var badge = item.querySelector(".badge");
            badge.className = "badge " + s.status_class;
            badge.textContent = s.status_label;
          });
          var badge = document.querySelector("#run-status .badge");
          if (badge) { badge.className = "badge " + p.status_class; badge.textContent = p.status_label; badge.dataset.status = p.status; }
          var finished = p.sizes.filter(function (s) { return s.status === "SUCCEEDED" || s.status === "FAILED"; }).length;
          var changed = finished !== finishedSizes && finished > 0;
          finishedSizes = finished;
          if (!p.active) {
            progress.dataset.active = "false";
            progress.classList.add("tb-done");
            var cancel = $("cancel-form");
            if (cancel) cancel.remove();
            refreshResults();
            return;
          }
          if (changed) refreshResults();
          setTimeout(tick, 1000);
        })
        .catch(function () { setTimeout(tick, 3000); });
    }
    tick();
  }

  initResults();
  poll();
})();
