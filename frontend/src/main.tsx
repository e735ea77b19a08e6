// Boot: read the runtime configuration, start the auth implementation it names, render.

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApi } from "./api/client";
import { RouterProvider } from "react-router";
import { routes } from "./App";
import { AppContext, ServerState } from "./services";
import { AuthContext, createAuth } from "./auth";
import { loadConfig } from "./config";
import { createAppRouter } from "./router";
import "./styles.css";

const container = document.getElementById("root");
if (!container) throw new Error("#root is missing from index.html");
const root = createRoot(container);

function BootError({ title, message }: { title: string; message: string }) {
  return (
    <main className="boot">
      <div className="notice notice-error" role="alert">
        <p className="notice-title">{title}</p>
        <p className="notice-message">{message}</p>
      </div>
    </main>
  );
}

async function boot() {
  const loaded = await loadConfig();
  if (!loaded.ok) {
    root.render(<BootError title="The dashboard is not configured" message={loaded.reason} />);
    return;
  }
  const config = loaded.config;
  try {
    const { auth, Wrapper } = await createAuth(config.auth);
    const api = createApi(config, () => auth.getToken());
    const router = createAppRouter(routes);
    root.render(
      <StrictMode>
        <Wrapper>
          <AuthContext.Provider value={auth}>
            <AppContext.Provider value={{ config, api }}>
              <ServerState>
                <RouterProvider router={router} />
              </ServerState>
            </AppContext.Provider>
          </AuthContext.Provider>
        </Wrapper>
      </StrictMode>,
    );
  } catch (e) {
    root.render(<BootError title="Sign-in could not start" message={e instanceof Error ? e.message : String(e)} />);
  }
}

void boot();
