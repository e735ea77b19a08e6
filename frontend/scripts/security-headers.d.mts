export interface DashboardConfig {
  frontAuthApiUrl: string;
  oauthApiUrl: string;
  apiMultiUrl: string;
  auth: { kind: "emulator"; signInUrl: string } | { kind: "clerk"; publishableKey: string; jwtTemplate?: string };
}
export function clerkFrontendApi(publishableKey: string): string;
export function securityHeaders(config: DashboardConfig): Record<string, string>;
export function headersFile(config: DashboardConfig): string;
