// SGD with momentum and L2 weight decay, in Caffe's form (what DSOD was trained with):
//   g' = g + weight_decay x w;  h = momentum x h + lr x g';  w = w - h
// (lr inside the history, unlike PyTorch's SGD: the two differ only when lr changes.) The history buffers are
// this optimizer's whole state, exposed by name so a checkpoint can store them and a resumed run continue exactly.
import * as tf from '@tensorflow/tfjs';
import type { WeightMap } from '../model/weights';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

export class MomentumSgd {
  private readonly history: tf.Variable[];

  /** `params`: the trainable variables with the names a checkpoint stores them under. */
  constructor(
    private readonly params: readonly { name: string; variable: tf.Variable }[],
    private readonly o: SgdOptions,
  ) {
    this.history = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
  }

  /** One update with these gradients (one per parameter, in the constructor's order). */
  apply(grads: readonly tf.Tensor[], lr: number): void {
    if (grads.length !== this.params.length) throw new Error(`sgd: ${grads.length} gradients for ${this.params.length} parameters`);
    const { momentum, weightDecay } = this.o;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const w = p.variable;
        const g = weightDecay > 0 ? tf.add(grads[i], tf.mul(w, weightDecay)) : grads[i];
        const h = tf.add(tf.mul(this.history[i], momentum), tf.mul(g, lr));
        this.history[i].assign(h);
        w.assign(tf.sub(w, h));
      });
    });
  }

  /** The momentum buffers, by parameter name. */
  async state(): Promise<WeightMap> {
    const out: WeightMap = {};
    for (let i = 0; i < this.params.length; i++) {
      out[this.params[i].name] = { shape: [...this.history[i].shape], values: (await this.history[i].data()) as Float32Array };
    }
    return out;
  }

  /** Restore the buffers; every parameter must be present with its shape. */
  load(state: WeightMap): void {
    const problems: string[] = [];
    this.params.forEach((p, i) => {
      const s = state[p.name];
      if (!s) problems.push(`missing ${p.name}`);
      else if (s.shape.join() !== this.history[i].shape.join()) problems.push(`${p.name}: shape [${s.shape}], expected [${this.history[i].shape}]`);
    });
    if (problems.length)
      throw new Error(`the optimizer state does not fit this network: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; ...' : ''}`);
    this.params.forEach((p, i) => {
      const s = state[p.name];
      tf.tidy(() => this.history[i].assign(tf.tensor(s.values, s.shape, 'float32')));
    });
  }

  dispose(): void {
    for (const h of this.history) h.dispose();
  }
}
