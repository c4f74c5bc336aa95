// The doctor's advice when Dawn finds no GPU: the missing piece of the Vulkan stack and the command that adds it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vulkanAdvice, type VulkanFacts } from '../../engine/backend';

const machine = (f: Partial<VulkanFacts>): VulkanFacts => ({ platform: 'linux', loader: true, icds: [], nvidiaDriver: null, renderNodes: 0, ...f });
const NVIDIA = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024';

test('no Vulkan loader: install libvulkan1', () => {
  assert.match(vulkanAdvice(machine({ loader: false, nvidiaDriver: NVIDIA })), /libvulkan\.so\.1\) is missing: sudo apt-get install libvulkan1/);
});

test("an NVIDIA driver loaded for CUDA without its Vulkan ICD: the driver's Vulkan part, named", () => {
  const advice = vulkanAdvice(machine({ nvidiaDriver: NVIDIA, icds: ['lvp_icd.json'], renderNodes: 1 }));
  assert.match(advice, /NVIDIA driver is loaded \(NVRM version: .*550\.54\.15/);
  assert.match(advice, /Vulkan ICD \(nvidia_icd\.json\) is missing/);
  assert.match(advice, /apt-get install nvidia-vulkan-icd/);
  assert.match(advice, /libnvidia-gl-<driver major version>/);
});

test('the NVIDIA ICD present: the advice is about access, not installation', () => {
  assert.match(vulkanAdvice(machine({ nvidiaDriver: NVIDIA, icds: ['nvidia_icd.json'], renderNodes: 1 })), /offered no adapter: check that this user may open/);
});

test('an AMD or Intel GPU exposed without a hardware driver: mesa-vulkan-drivers', () => {
  assert.match(vulkanAdvice(machine({ renderNodes: 1, icds: ['lvp_icd.json'] })), /apt-get install mesa-vulkan-drivers/);
});

test('no GPU at all (lavapipe only, as in CI): says a GPU is needed, installs nothing', () => {
  const advice = vulkanAdvice(machine({ icds: ['intel_icd.json', 'lvp_icd.json', 'radeon_icd.json'] }));
  assert.match(advice, /no GPU is visible/);
  assert.doesNotMatch(advice, /apt-get/);
});

test('macOS and Windows get their own driver stacks named', () => {
  assert.match(vulkanAdvice(machine({ platform: 'darwin' })), /Metal/);
  assert.match(vulkanAdvice(machine({ platform: 'win32' })), /D3D12/);
});
