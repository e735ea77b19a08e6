// Every project of the developer, with its test and live key sets.

import type { ProjectList, ProjectView } from "../api/types";
import { useApi, useResource } from "../services";
import { Shell } from "../components/Shell";
import { Badge, EmptyState, ErrorNotice, Loading, PageHeading } from "../components/ui";
import { date, plural } from "../lib/format";
import { Link } from "../router";

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

export function Projects() {
  const api = useApi();
  const projects = useResource<ProjectList>("projects", () => api.projects());
  return (
    <Shell>
      <div className="page-heading-row">
        <PageHeading title="Projects" lead="Each project has its own keys, tiers or products, customers and figures.">
          Projects
        </PageHeading>
        <Link to="/projects/new" className="btn btn-primary">
          New project
        </Link>
      </div>
      {projects.status === "loading" ? <Loading label="Loading projects…" /> : null}
      {projects.status === "error" ? <ErrorNotice error={projects.error} title="Projects could not be loaded" onRetry={projects.reload} /> : null}
      {projects.data && projects.data.projects.length === 0 ? (
        <EmptyState
          title="No projects yet"
          action={
            <Link to="/projects/new" className="btn btn-primary">
              Create your first project
            </Link>
          }
        >
          A project is one API or shop you sell: SaaS tiers with monthly request limits, or Store products with stock.
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
