/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_FRONT_AUTH_API_URL?: string;
  readonly VITE_OAUTH_API_URL?: string;
  readonly VITE_API_MULTI_URL?: string;
  readonly VITE_CLERK_PUBLISHABLE_KEY?: string;
  readonly VITE_CLERK_SIGN_IN_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
