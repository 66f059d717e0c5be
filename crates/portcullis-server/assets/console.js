// Portcullis console: every element with data-refresh="URL" is reloaded from
// that URL (a server-rendered fragment) every five seconds while the page is
// visible. The only script of the console; it loads nothing from other hosts.
"use strict";
for (const part of document.querySelectorAll("[data-refresh]")) {
  const refresh = async () => {
    if (document.hidden) return;
    try {
      const response = await fetch(part.dataset.refresh, { credentials: "same-origin" });
      if (response.ok) part.innerHTML = await response.text();
    } catch (_) {
      // Offline for a moment: the next tick tries again.
    }
  };
  setInterval(refresh, 5000);
}
