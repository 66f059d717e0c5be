// Portcullis console: the console's one script. It loads nothing from other
// hosts, and every page works without it. Elements with data-refresh="URL"
// are reloaded from that URL (a server-rendered fragment) every five seconds
// while the page is visible, unless paused (the [data-pause] button, WCAG
// 2.2.2) or the keyboard's focus is inside them.
"use strict";
let paused = false;
for (const button of document.querySelectorAll("[data-pause]")) {
  button.hidden = false;
  button.addEventListener("click", () => {
    paused = !paused;
    button.setAttribute("aria-pressed", String(paused));
    button.textContent = paused ? "Resume live updates" : "Pause live updates";
  });
}
for (const part of document.querySelectorAll("[data-refresh]")) {
  const refresh = async () => {
    if (document.hidden || paused || part.contains(document.activeElement)) return;
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
      button.textContent = button.dataset.copied || "Copied";
    } catch (_) {
      button.textContent = button.dataset.copyFailed || "Select and copy";
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

// The secrets a page shows once, downloaded as JSON built from the page
// itself: nothing is fetched, and no URL holds them once saved.
for (const button of document.querySelectorAll("[data-download]")) {
  button.hidden = false;
  button.addEventListener("click", () => {
    const secrets = [...document.querySelectorAll("tr[data-secret]")].map((row) => ({
      client_id: row.dataset.clientId,
      client_name: row.dataset.clientName,
      secret_id: row.dataset.secretId,
      secret: document.getElementById(row.dataset.secret).textContent,
    }));
    const url = URL.createObjectURL(new Blob([JSON.stringify(secrets, null, 2)], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = button.dataset.download;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
}
