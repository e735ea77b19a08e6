// The signed-in developer's platform, once PlatformGate has it (null above it): its own module so
// what reads it (credentials.tsx) and what provides it (platform.tsx) never import each other.

import { createContext } from "react";
import type { PlatformId } from "./api/types";

export const PlatformContext = createContext<PlatformId | null>(null);
