// Portcullis console: the console's one script. It loads nothing from other
// hosts, and every page works without it. Elements with data-refresh="URL"
// are reloaded from that URL (a server-rendered fragment) every five seconds
// while the page is visible.
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

// Copy buttons (hidden without script): copy the text of the element they name.
for (const button of document.querySelectorAll("[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch (_) {
      button.textContent = "Select and copy";
    }
  });
}

// Redirect URIs checked as they are typed, by the server's own rules.
for (const area of document.querySelectorAll("[data-check-redirect-uris]")) {
  const out = document.getElementById(area.id + "-check");
  const kind = document.getElementById("application_type");
  let timer;
  const check = async () => {
    const query = new URLSearchParams({ uris: area.value, application_type: kind ? kind.value : "" });
    try {
      const response = await fetch(area.dataset.checkRedirectUris + "?" + query, { credentials: "same-origin" });
      if (!response.ok) return;
      const { problems } = await response.json();
      out.textContent = problems.join("; ");
      area.setAttribute("aria-invalid", problems.length > 0 ? "true" : "false");
    } catch (_) {
      // Offline: saving checks again.
    }
  };
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  if (kind) kind.addEventListener("change", check);
}
