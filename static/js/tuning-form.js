// New sweep form: presets, the function picker (ListFunctions), and the live estimate.
(function () {
  "use strict";
  var form = document.getElementById("sweep-form");
  // Without the start permission the form is read-only: no AWS reads (the server refuses them).
  if (!form || form.querySelector("button.tb-submit").disabled) return;
  var $ = function (id) { return document.getElementById(id); };
  var fn = $("id_function"), region = $("id_region"), account = $("id_account");
  var sizes = $("id_memory_sizes"), list = $("function-options");
  var functions = [];

  // Presets fill the sizes field (which stays editable).
  form.querySelectorAll(".tb-preset").forEach(function (button) {
    button.addEventListener("click", function () {
      sizes.value = button.dataset.sizes;
      var preset = $("id_preset");
      if (preset) preset.value = button.dataset.preset;
      sizes.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  // Concurrency only matters in parallel mode; the weight only for "balanced".
  function syncToggles() {
    var parallel = $("id_parallel"), concurrency = $("id_concurrency");
    if (parallel && concurrency && !parallel.disabled) concurrency.disabled = !parallel.checked;
    var strategy = $("id_strategy"), weight = $("field-balanced_weight");
    if (strategy && weight) weight.classList.toggle("tb-dim", strategy.value !== "balanced");
  }
  form.addEventListener("change", syncToggles);
  syncToggles();

  function showFunctionInfo() {
    var info = $("function-info");
    var match = functions.find(function (f) { return f.name === fn.value || f.arn === fn.value; });
    if (!info) return;
    info.textContent = match
      ? match.runtime + " · " + match.architecture + " · currently " + match.memory_mb + " MB · timeout " + match.timeout_s + " s"
      : "";
  }

  function loadFunctions() {
    if (!fn || fn.disabled) return;
    var status = $("function-status");
    var params = new URLSearchParams({ region: region ? region.value : "", account: account ? account.value : "" });
    status.textContent = "Loading functions…";
    fetch(form.dataset.functionsUrl + "?" + params, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        functions = data.functions || [];
        list.innerHTML = "";
        functions.forEach(function (f) {
          var option = document.createElement("option");
          option.value = f.name;
          option.label = f.runtime + ", " + f.memory_mb + " MB";
          list.appendChild(option);
        });
        status.textContent = data.error ? data.error : functions.length + " function" + (functions.length === 1 ? "" : "s") + " in " + (region ? region.value : "this region") + ".";
        showFunctionInfo();
      })
      .catch(function () { status.textContent = "Could not load the function list; paste a name or ARN."; });
  }
  if (region) region.addEventListener("change", loadFunctions);
  if (account) account.addEventListener("change", loadFunctions);
  if (fn) fn.addEventListener("input", showFunctionInfo);
  loadFunctions();

  // Live estimate, debounced.
  var timer = null, seq = 0;
  function estimate() {
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    data.delete("payload");
    data.delete("weighted_payloads");
    var mine = ++seq;
    fetch(form.dataset.estimateUrl + "?" + new URLSearchParams(data), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (result) {
        if (mine !== seq) return;
        var figures = $("estimate-figures");
        if (!result.ok) {
          $("estimate-text").textContent = result.message;
          figures.hidden = true;
          $("estimate-basis").textContent = "";
          return;
        }
        $("estimate-text").textContent = "";
        figures.hidden = false;
        $("estimate-invocations").textContent = result.invocations.toLocaleString();
        $("estimate-cost").textContent = result.price_unknown ? result.cost_label : (result.upper_bound ? "at most " : "about ") + result.cost_label;
        $("estimate-cost").title = result.price_unknown || "";
        $("estimate-duration").textContent = (result.upper_bound ? "at most " : "about ") + result.duration_label;
        $("estimate-basis").textContent = "Estimated " + result.basis + ".";
      })
      .catch(function () { /* the estimate is a convenience; the form still works */ });
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(estimate, 250); }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  if (fn && fn.value) schedule();
})();
