// The token lives for the browser tab only (sessionStorage): closing the tab forgets it.
const KEY = "reelforge.token";

export function loadToken(): string {
  try {
    return window.sessionStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

export function saveToken(token: string): void {
  try {
    if (token) window.sessionStorage.setItem(KEY, token);
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled: the token lasts until the page is reloaded.
  }
}
