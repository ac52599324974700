// Starts the site's circuit. A page whose connection is lost (a Server restarted, the network dropped) tries to reconnect
// every second for half a minute, then every five seconds for ten minutes; when the Server no longer knows its circuit (it restarted), Blazor
// reloads the page, which reads its study again. A page whose circuit broke shows, in its error bar, the page session the
// Server's log names it by (PageErrors.cs).
(() => {
  const session = () => document.getElementById("page-session")?.textContent?.trim();
  const bar = document.getElementById("blazor-error-ui");
  if (bar) {
    new MutationObserver(() => {
      const id = session();
      const shown = document.getElementById("error-session");
      if (id && shown && bar.style.display === "block") shown.textContent = id;
    }).observe(bar, { attributes: true, attributeFilter: ["style"] });
  }
  Blazor.start({
    circuit: {
      reconnectionOptions: {
        maxRetries: 150,
        retryIntervalMilliseconds: attempt => (attempt < 30 ? 1000 : 5000),
      },
    },
  });
})();
