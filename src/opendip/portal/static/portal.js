// OpenDIP portal: small progressive enhancements; every page works without this file.
// Copy buttons: data-copy (text to copy) or data-copy-url (fetch the text, e.g. a curl command).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  let text = button.dataset.copy;
  if (text === undefined && button.dataset.copyUrl) {
    const answer = await fetch(button.dataset.copyUrl, { credentials: "same-origin" });
    text = await answer.text();
  }
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (_) {
    button.textContent = "Copy failed";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
});

// Auto-refresh: a page with [data-refresh-every] re-reads itself every so many seconds and swaps in
// the new content of each [data-refresh-region] (matched by id), without reloading the page. The
// control's button pauses and resumes it; the choice is remembered across pages. A hidden tab waits.
(() => {
  const control = document.querySelector("[data-refresh-every]");
  if (!control) return;
  const seconds = Number(control.dataset.refreshEvery) || 15;
  const button = control.querySelector("button");
  const status = control.querySelector("[data-refresh-status]");
  const KEY = "opendip.refresh.paused";
  let paused = localStorage.getItem(KEY) === "1";
  let busy = false;
  const time = () => new Date().toISOString().slice(11, 19);

  const show = (text) => {
    button.textContent = paused ? "Resume auto-refresh" : "Pause auto-refresh";
    button.setAttribute("aria-pressed", paused ? "true" : "false");
    control.classList.toggle("paused", paused);
    if (text) status.textContent = text;
  };

  const refresh = async () => {
    if (paused || busy || document.hidden) return;
    busy = true;
    try {
      const answer = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      if (paused) return; // paused while the answer was on its way: keep what the reader is looking at
      for (const region of document.querySelectorAll("[data-refresh-region]")) {
        const replacement = fresh.getElementById(region.id);
        if (replacement) region.replaceWith(document.importNode(replacement, true));
      }
      control.dataset.refreshed = String(Number(control.dataset.refreshed || 0) + 1);
      show(`Updated ${time()} UTC · every ${seconds} s`);
    } catch (error) {
      show(`Refresh failed at ${time()} UTC (${error.message}); trying again in ${seconds} s`);
    } finally {
      busy = false;
    }
  };

  button.addEventListener("click", () => {
    paused = !paused;
    localStorage.setItem(KEY, paused ? "1" : "0");
    show(paused ? `Paused at ${time()} UTC` : `Resumed · every ${seconds} s`);
    if (!paused) refresh();
  });
  button.hidden = false;
  show(paused ? "Paused" : `Live · every ${seconds} s`);
  setInterval(refresh, seconds * 1000);
})();
