/** The shapes the REST API answers with (see jupyter_deploy/serverext/manager.py). */

export interface IEngineInfo {
  reachable: boolean;
  version: string | null;
  api_version: string | null;
  error: string | null;
  how_to_start: string;
}

export interface IRegistry {
  address: string;
  reachable: boolean;
  error: string | null;
}

export interface ISettings {
  version: string;
  engine: IEngineInfo;
  registries: IRegistry[];
}

export interface IRepositoryPage {
  address: string;
  total: number;
  offset: number;
  repositories: string[];
}

export interface ITag {
  repository: string;
  tag: string;
  digest: string | null;
  size: number | null;
  created: string | null;
  platforms: string[];
  labels?: Record<string, string>;
}

export interface ITagList {
  address: string;
  repository: string;
  tags: ITag[];
}

export interface ILocalImage {
  id: string;
  tags: string[];
  size: number | null;
  created: string | number | null;
}

export interface IPort {
  ip: string;
  private_port: number | null;
  public_port: number | null;
  type: string;
}

export interface IContainer {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  health: string | null;
  ports: IPort[];
  ours: boolean;
  service: string | null;
  scoring_uri: string | null;
  snippet: string | null;
  /** The Swarm service this container is part of, and its role there (else null). */
  swarm_service: string | null;
  role: 'replica' | 'load-balancer' | null;
}

/** A service on any target of the engine (`GET services`); never holds its keys. */
export interface IService {
  name: string;
  target: string;
  state: string;
  image: string;
  port: number | null;
  scoring_uri: string | null;
  /** `healthy/desired` replicas. */
  replicas: string;
  /** Whether the service asks callers for a key. */
  auth: boolean;
  snippet: string;
}

/** The keys of a service (`GET services/<name>/keys`): copied, never shown. */
export interface IServiceKeys {
  name: string;
  primary_key: string;
  secondary_key: string;
}

export interface IStats {
  id: string;
  memory_bytes: number | null;
  memory_limit: number | null;
  cpu_percent: number | null;
}

/** A registry as the panel holds it: its repositories load with it, tags on demand. */
export interface IRegistryState extends IRegistry {
  repositories: string[] | null;
  loadError: string | null;
}

/** Tags of one repository, loaded when the user opens it. */
export interface ITagState {
  loading: boolean;
  tags: ITag[];
  error: string | null;
}

/** A pull started from the sidebar, as `images/pulls/<id>` reports it. */
export interface IPullJob {
  id: string;
  reference: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  fraction: number;
  layers: number;
  layers_done: number;
  progress: string;
  status: string;
  message: string;
}

/** One prebuilt inference base image (`GET base-images`), as `base-images ls --json` gives it. */
export interface IBaseImage {
  name: string;
  /** The local tag it is (or will be) built as. */
  image: string;
  /** The seeds' image names it stands in for (what `env.docker.base_image` names). */
  stands_for: string[];
  inside: string;
  requirements: string[];
  packages: string;
  built: boolean;
  size_bytes: number | null;
  /** The measured size when built, else the expected one (`≈ …`). */
  size: string;
  /** It needs an engine that gives containers an NVIDIA GPU. */
  gpu: boolean;
}

/** A seeds' image that cannot be had here, and what to use instead. */
export interface IUnavailableBase {
  name: string;
  reason: string;
  instead: string;
}

export interface IBaseImageList {
  images: IBaseImage[];
  unavailable: IUnavailableBase[];
}
