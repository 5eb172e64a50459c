// Sign-in for Keel's consoles: OpenID Connect authorization code with PKCE (RFC 7636) against the login that
// the page configuration (/config.json) names: Cognito managed login in AWS, its stand-in on the local stack.
// Tokens live only in this closure: never in storage, the address bar or the DOM. They are refreshed a minute
// before they expire and dropped on sign-out or when the API says the session has ended. No dependencies.
"use strict";
(function () {
  const PKCE_KEY = "keel-pkce"; // sessionStorage, across the redirect only: the one-time verifier and state
  const SIGNED_OUT_KEY = "keel-signed-out";
  const REFRESH_MARGIN_SECONDS = 60;
  let config = null;
  let tokens = null;
  let claims = null;
  let timer = null;
  const listeners = { ended: [], refreshed: [] };

  class KeelApiError extends Error {
    constructor(status, message, code) {
      super(message);
      this.status = status;
      this.code = code || "";
    }
  }

  function b64url(bytes) {
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function random(size) {
    const bytes = new Uint8Array(size);
    crypto.getRandomValues(bytes);
    return b64url(bytes);
  }

  async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return b64url(new Uint8Array(digest));
  }

  function payload(jwt) {
    const part = String(jwt || "").split(".")[1] || "";
    const text = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(decodeURIComponent(Array.from(text, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("")));
  }

  function page() { return location.origin + location.pathname; }

  function emit(name, detail) { for (const fn of listeners[name]) fn(detail); }

  async function loadConfig() {
    let response;
    try {
      response = await fetch("/config.json", { cache: "no-store" });
    } catch (error) {
      throw new KeelApiError(0, "The Keel service cannot be reached. Check your connection and reload the page.");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.auth || !body.auth.client_id) {
      throw new KeelApiError(response.status, "This page has no sign-in configuration (/config.json). Ask your administrator.");
    }
    config = body.auth;
  }

  async function signIn(prompt) {
    const verifier = random(48);
    const state = random(24);
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, page: page() }));
    const params = new URLSearchParams({
      response_type: "code",
      client_id: config.client_id,
      redirect_uri: page(),
      scope: config.scope || "openid",
      state,
      code_challenge: await challengeOf(verifier),
      code_challenge_method: "S256",
    });
    if (prompt) params.set("prompt", prompt);
    location.assign(config.authorize_url + "?" + params.toString());
  }

  async function tokenRequest(form) {
    let response;
    try {
      response = await fetch(config.token_url, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...form, client_id: config.client_id }).toString(),
        cache: "no-store",
      });
    } catch (error) {
      throw new KeelApiError(0, "The sign-in service cannot be reached.");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.access_token) {
      throw new KeelApiError(response.status, body.error_description || body.error || "sign-in was refused");
    }
    tokens = { access: body.access_token, refresh: body.refresh_token || (tokens && tokens.refresh) || "" };
    claims = payload(body.id_token || body.access_token);
    schedule(payload(body.access_token).exp);
  }

  function schedule(exp) {
    clearTimeout(timer);
    const seconds = Math.max(5, Number(exp) - Date.now() / 1000 - REFRESH_MARGIN_SECONDS);
    timer = setTimeout(refresh, seconds * 1000);
  }

  async function refresh() {
    if (!tokens || !tokens.refresh) { end("Your session has expired. Sign in again."); return; }
    try {
      await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh });
      emit("refreshed");
    } catch (error) {
      end("Your session could not be renewed (" + error.message + "). Sign in again.");
    }
  }

  function forget() {
    tokens = null;
    claims = null;
    clearTimeout(timer);
  }

  function end(message) {
    forget();
    emit("ended", message);
  }

  // Returns {state: "signed-in" | "signed-out" | "redirecting" | "error", message?}.
  async function start() {
    await loadConfig();
    const params = new URLSearchParams(location.search);
    if (params.has("code") || params.has("error")) {
      const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
      sessionStorage.removeItem(PKCE_KEY);
      history.replaceState(null, "", location.pathname); // the code never stays in the address bar or history
      if (params.has("error")) {
        return { state: "error", message: "Sign-in was refused: " + (params.get("error_description") || params.get("error")) };
      }
      if (!saved || saved.state !== params.get("state")) {
        return { state: "error", message: "The sign-in answer does not match a sign-in started on this page. Sign in again." };
      }
      try {
        await tokenRequest({ grant_type: "authorization_code", code: params.get("code"), redirect_uri: saved.page, code_verifier: saved.verifier });
      } catch (error) {
        return { state: "error", message: "Sign-in did not complete: " + error.message };
      }
      return { state: "signed-in" };
    }
    if (sessionStorage.getItem(SIGNED_OUT_KEY)) {
      sessionStorage.removeItem(SIGNED_OUT_KEY);
      return { state: "signed-out", message: "You are signed out." };
    }
    await signIn();
    return { state: "redirecting" };
  }

  function signOut() {
    forget();
    sessionStorage.setItem(SIGNED_OUT_KEY, "1");
    const params = new URLSearchParams({ client_id: config.client_id, logout_uri: page() });
    location.assign(config.logout_url + "?" + params.toString());
  }

  // A JSON call to the Keel API with the bearer token; errors are KeelApiError with the API's own message.
  async function api(method, path, body) {
    if (!tokens) throw new KeelApiError(401, "You are not signed in.");
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + tokens.access },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (error) {
      throw new KeelApiError(0, "The Keel API cannot be reached. Check your connection; the page retries on its own.");
    }
    const data = await response.json().catch(() => ({}));
    const message = (data.error && data.error.message) || response.statusText || "HTTP " + response.status;
    if (response.status === 401) {
      const text = "Your session has ended: " + message;
      end(text);
      throw new KeelApiError(401, text, data.error && data.error.code);
    }
    if (!response.ok) throw new KeelApiError(response.status, message, data.error && data.error.code);
    return data;
  }

  function user() {
    if (!claims) return null;
    return { name: claims["cognito:username"] || claims.preferred_username || claims.username || claims.email || claims.sub, email: claims.email || "" };
  }

  // The panel both consoles show instead of their content: signed out, refused, or unable to start.
  function gate(title, message, { signIn = false, switchUser = false, refused = false, content = "" } = {}) {
    const byId = (id) => document.getElementById(id);
    byId("gate-title").textContent = title;
    byId("gate-text").textContent = message;
    byId("signin").hidden = !signIn;
    byId("switch").hidden = !switchUser;
    byId("gate").classList.toggle("refused", refused);
    byId("gate").hidden = false;
    if (content) byId(content).hidden = true;
  }

  window.KeelAuth = Object.freeze({
    start,
    gate,
    signIn: () => signIn("login"),
    signOut,
    api,
    user,
    refresh,
    on: (name, fn) => listeners[name].push(fn),
    KeelApiError,
  });
})();
