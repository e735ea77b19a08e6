// Every project of the developer's platform, with its test and live key sets. New projects only
// for the roles that may make them.

import type { ProjectList, ProjectView, Role } from "../api/types";
import { useApi, useResource } from "../services";
import { Shell } from "../components/Shell";
import { Badge, EmptyState, ErrorNotice, Loading, Notice, PageHeading } from "../components/ui";
import { date, plural } from "../lib/format";
import { isRole, roleLabel } from "../lib/team";
import { useCapabilities } from "../platformContext";
import { Link, useLocation } from "../router";
import type { Joined } from "./Join";

export function typeLabel(type: ProjectView["projectType"]): string {
  return type === "store" ? "Store" : "SaaS";
}

function ProjectCard({ project }: { project: ProjectView }) {
  const key = project.test?.publishableKey ?? project.live?.publishableKey;
  const count = project.test?.tierCount ?? project.live?.tierCount ?? 0;
  return (
    <li className="project-card">
      <div className="project-card-head">
        <h2 className="project-card-title">{key ? <Link to={`/projects/${key}`}>{project.name}</Link> : project.name}</h2>
        <Badge tone="info">{typeLabel(project.projectType)}</Badge>
      </div>
      <p className="muted small">
        {plural(count, project.projectType === "store" ? "product" : "tier")} · created {date(project.test?.createdAt ?? project.live?.createdAt)}
      </p>
      <div className="project-card-modes">
        <span className="mode-pill">
          <Badge tone="neutral">Test</Badge> <code className="truncate">{project.test?.publishableKey ?? "—"}</code>
        </span>
        <span className="mode-pill">
          {project.live ? (
            <>
              <Badge tone="live">Live</Badge> <code className="truncate">{project.live.publishableKey}</code>
            </>
          ) : (
            <span className="muted small">Not live yet</span>
          )}
        </span>
      </div>
    </li>
  );
}

function joinedRole(state: unknown): Role | null {
  const role = (state as { joined?: Joined } | null)?.joined?.role;
  return isRole(role) ? role : null;
}

export function Projects() {
  const api = useApi();
  const projects = useResource<ProjectList>("projects", () => api.projects());
  const { changeTest } = useCapabilities();
  const joined = joinedRole(useLocation().state);
  return (
    <Shell>
      <div className="page-heading-row">
        <PageHeading title="Projects" lead="Each project has its own keys, tiers or products, customers and figures.">
          Projects
        </PageHeading>
        {changeTest ? (
          <Link to="/projects/new" className="btn btn-primary">
            New project
          </Link>
        ) : null}
      </div>
      {joined ? (
        <Notice tone="success" title={`You joined the organization as ${roleLabel(joined)}`}>
          These are its projects. <Link to="/team">See who else is in it</Link>.
        </Notice>
      ) : null}
      {projects.status === "loading" ? <Loading label="Loading projects…" /> : null}
      {projects.status === "error" ? <ErrorNotice error={projects.error} title="Projects could not be loaded" onRetry={projects.reload} /> : null}
      {projects.data && projects.data.projects.length === 0 ? (
        <EmptyState
          title="No projects yet"
          action={
            changeTest ? (
              <Link to="/projects/new" className="btn btn-primary">
                Create your first project
              </Link>
            ) : undefined
          }
        >
          A project is one API or shop you sell: SaaS tiers with monthly request limits, or Store products with stock.
          {changeTest ? null : " An owner, admin or developer of your organization creates them."}
        </EmptyState>
      ) : null}
      {projects.data && projects.data.projects.length > 0 ? (
        <ul className="project-grid" aria-label="Your projects">
          {projects.data.projects.map((p) => (
            <ProjectCard key={p.projectId} project={p} />
          ))}
        </ul>
      ) : null}
    </Shell>
  );
}
