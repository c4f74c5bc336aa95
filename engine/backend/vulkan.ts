// Why Dawn found no GPU: on Linux, Dawn reaches a GPU through the Vulkan loader (libvulkan.so.1) and a vendor's
// installable client driver (an ICD JSON in a Vulkan icd.d folder). The usual gap on training machines is an NVIDIA
// driver installed for CUDA without its Vulkan part, so the doctor names the missing piece and the command that adds it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What this machine has of the Vulkan stack (Linux). */
export interface VulkanFacts {
  platform: NodeJS.Platform;
  /** libvulkan.so.1 found in a library folder. */
  loader: boolean;
  /** ICD manifest file names (nvidia_icd.json, lvp_icd.json, radeon_icd.json, ...). */
  icds: string[];
  /** The NVIDIA kernel driver's version line (/proc/driver/nvidia/version), when loaded. */
  nvidiaDriver: string | null;
  /** /dev/dri/renderD* nodes: a GPU the kernel exposes to user space (AMD, Intel, or NVIDIA with DRM). */
  renderNodes: number;
}

export interface VulkanDiagnosis extends VulkanFacts {
  /** One sentence with the fix, for the doctor's attempt detail. */
  advice: string;
}

const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const SOFTWARE_ICD = /^(lvp|swiftshader)/i;

function libraryDirs(): string[] {
  const triplet = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' }[process.arch as string];
  return [...(triplet ? [`/usr/lib/${triplet}`, `/lib/${triplet}`] : []), '/usr/lib64', '/usr/lib', '/lib64', '/lib', '/usr/local/lib'];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Read this machine's Vulkan facts (cheap: a few directory listings). */
export function readVulkanFacts(env: NodeJS.ProcessEnv = process.env): VulkanFacts {
  const explicit = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean);
  const icds = explicit.length ? explicit.map((f) => f.split('/').pop()!) : ICD_DIRS.flatMap((d) => listDir(d).filter((f) => f.endsWith('.json')));
  let nvidiaDriver: string | null;
  try {
    nvidiaDriver = readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0].trim() || null;
  } catch {
    nvidiaDriver = null;
  }
  return {
    platform: process.platform,
    loader: libraryDirs().some((d) => existsSync(join(d, 'libvulkan.so.1'))),
    icds: [...new Set(icds)].sort(),
    nvidiaDriver,
    renderNodes: listDir('/dev/dri').filter((f) => f.startsWith('renderD')).length,
  };
}

/** The missing piece and its fix, from the facts (pure: tested with made-up machines). */
export function vulkanAdvice(f: VulkanFacts): string {
  if (f.platform === 'darwin') return 'Dawn uses Metal on macOS: a Mac without a Metal GPU cannot run WebGPU';
  if (f.platform === 'win32') return 'Dawn uses D3D12 or Vulkan on Windows: update the GPU driver';
  if (f.platform !== 'linux') return `WebGPU through Dawn is not supported on ${f.platform}`;
  if (!f.loader) return 'the Vulkan loader (libvulkan.so.1) is missing: sudo apt-get install libvulkan1';
  const hardware = f.icds.filter((i) => !SOFTWARE_ICD.test(i));
  if (f.nvidiaDriver && !f.icds.some((i) => /nvidia/i.test(i))) {
    return (
      `the NVIDIA driver is loaded (${f.nvidiaDriver.slice(0, 80)}) but its Vulkan ICD (nvidia_icd.json) is missing: install the driver's ` +
      'Vulkan part (Debian: sudo apt-get install nvidia-vulkan-icd; Ubuntu: sudo apt-get install libnvidia-gl-<driver major version>)'
    );
  }
  if (f.renderNodes === 0 && !f.nvidiaDriver) return 'no GPU is visible (no /dev/dri render node, no NVIDIA driver loaded): WebGPU needs a GPU';
  if (hardware.length === 0) {
    return 'a GPU is exposed (/dev/dri) but no hardware Vulkan driver is installed: sudo apt-get install mesa-vulkan-drivers (AMD, Intel)';
  }
  return `Vulkan drivers ${hardware.join(', ')} are installed but offered no adapter: check that this user may open /dev/dri or /dev/nvidia*`;
}

export function diagnoseVulkan(env: NodeJS.ProcessEnv = process.env): VulkanDiagnosis {
  const facts = readVulkanFacts(env);
  return { ...facts, advice: vulkanAdvice(facts) };
}
