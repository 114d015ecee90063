// <form data-confirm="Question?"> asks before submitting: declared in the markup, so no page
// needs an inline handler (the Content-Security-Policy allows none).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset ? event.target.dataset.confirm : null;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
