// A project opened by one of its publishable keys: the key names the mode too. Shared by the
// project page and its views (go-live, metrics), which must not import each other.

import type { Mode, ProjectList, ProjectView } from "../api/types";

export interface OpenProject {
  project: ProjectView;
  mode: Mode;
  publishableKey: string;
}

export function findProject(list: ProjectList, publishableKey: string): OpenProject | null {
  for (const project of list.projects) {
    if (project.test?.publishableKey === publishableKey) return { project, mode: "test", publishableKey };
    if (project.live?.publishableKey === publishableKey) return { project, mode: "live", publishableKey };
  }
  return null;
}
