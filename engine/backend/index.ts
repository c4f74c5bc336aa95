// The engine's backend room: which tfjs backend runs, why, and the kernels that make wasm train correctly.
export {
  ALLOW_CPU_ADAPTER_ENV,
  BACKEND_ORDER,
  BackendUnavailable,
  defaultLoaders,
  INSTALL_HINTS,
  type BackendChoice,
  type BackendLoader,
  type Loaded,
  type RequireFn,
} from './loaders';
export { BackendError, formatDoctor, isBackendChoice, selectBackend, type BackendAttempt, type DoctorReport, type SelectOptions } from './select';
export { diagnoseVulkan, readVulkanFacts, vulkanAdvice, type VulkanDiagnosis, type VulkanFacts } from './vulkan';
export { findWasmDir, prepareWasm, WASM_FILES, wasmDirCandidates } from './wasm';
export { registerWasmKernels, WASM_KERNELS } from './wasm-kernels';
