// Types of tfjs-core's chained tensor methods (x.add(y)); at run time core's model module
// registers them (core/src/model/tfjs-complete.ts), and every method acts on a model.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
