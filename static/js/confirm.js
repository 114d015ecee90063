// Behaviour declared in the markup, so no page needs an inline handler (the CSP allows none):
// <form data-confirm="Question?"> asks before submitting; <input data-select-on-click>
// selects its whole text when clicked (share links to copy).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset ? event.target.dataset.confirm : null;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    if (event.target.matches && event.target.matches("input[data-select-on-click]")) {
      event.target.select();
    }
  });
})();
