# A traced model printed by PyTorch 1.13 (torch._C._jit_pass_lower_graph(traced.graph, traced._c):
# parameters lifted to graph inputs), read by ts2qfx through torch::jit::parseIR.
# conv -> bn -> relu -> max_pool2d -> conv_transpose -> cat -> view -> slice -> linear -> dropout.
graph(%x : Float(1, 3, 8, 8, strides=[192, 64, 8, 1], requires_grad=0, device=cpu),
      %conv.weight : Float(4, 3, 3, 3, strides=[27, 9, 3, 1], requires_grad=1, device=cpu),
      %conv.bias : Float(4, strides=[1], requires_grad=1, device=cpu),
      %bn.weight : Float(4, strides=[1], requires_grad=1, device=cpu),
      %bn.bias : Float(4, strides=[1], requires_grad=1, device=cpu),
      %bn.running_mean : Float(4, strides=[1], requires_grad=0, device=cpu),
      %bn.running_var : Float(4, strides=[1], requires_grad=0, device=cpu),
      %up.weight : Float(4, 2, 2, 2, strides=[8, 4, 2, 1], requires_grad=1, device=cpu),
      %up.bias : Float(2, strides=[1], requires_grad=1, device=cpu),
      %fc.weight : Float(5, 128, strides=[128, 1], requires_grad=1, device=cpu),
      %fc.bias : Float(5, strides=[1], requires_grad=1, device=cpu)):
  %50 : bool = prim::Constant[value=1]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:459:0
  %51 : int = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:459:0
  %52 : bool = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:459:0
  %53 : int = prim::Constant[value=1]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:459:0
  %56 : int[] = prim::ListConstruct(%53, %53)
  %57 : int[] = prim::ListConstruct(%53, %53)
  %58 : int[] = prim::ListConstruct(%53, %53)
  %59 : int[] = prim::ListConstruct(%51, %51)
  %input.1 : Float(1, 4, 8, 8, strides=[256, 64, 8, 1], requires_grad=0, device=cpu) = aten::_convolution(%x, %conv.weight, %conv.bias, %56, %57, %58, %52, %59, %53, %52, %52, %50, %50) # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:459:0
  %61 : bool = prim::Constant[value=1]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:2450:0
  %62 : float = prim::Constant[value=1.0000000000000001e-05]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:2450:0
  %63 : float = prim::Constant[value=0.10000000000000001]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:2450:0
  %64 : bool = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:2450:0
  %input.3 : Float(1, 4, 8, 8, strides=[256, 64, 8, 1], requires_grad=1, device=cpu) = aten::batch_norm(%input.1, %bn.weight, %bn.bias, %bn.running_mean, %bn.running_var, %64, %63, %62, %61) # /usr/lib/python3/dist-packages/torch/nn/functional.py:2450:0
  %input.5 : Float(1, 4, 8, 8, strides=[256, 64, 8, 1], requires_grad=1, device=cpu) = aten::relu(%input.3) # /usr/lib/python3/dist-packages/torch/nn/functional.py:1457:0
  %9 : int = prim::Constant[value=2]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:782:0
  %10 : int = prim::Constant[value=2]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:782:0
  %11 : int[] = prim::ListConstruct(%9, %10)
  %12 : int[] = prim::ListConstruct()
  %13 : int = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:782:0
  %14 : int = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:782:0
  %15 : int[] = prim::ListConstruct(%13, %14)
  %16 : int = prim::Constant[value=1]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:782:0
  %17 : int = prim::Constant[value=1]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:782:0
  %18 : int[] = prim::ListConstruct(%16, %17)
  %19 : bool = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:782:0
  %input.7 : Float(1, 4, 4, 4, strides=[64, 16, 4, 1], requires_grad=1, device=cpu) = aten::max_pool2d(%input.5, %11, %12, %15, %18, %19) # /usr/lib/python3/dist-packages/torch/nn/functional.py:782:0
  %70 : bool = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:956:0
  %71 : bool = prim::Constant[value=1]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:956:0
  %72 : int = prim::Constant[value=1]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:956:0
  %73 : int = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:956:0
  %74 : int = prim::Constant[value=2]() # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:956:0
  %77 : int[] = prim::ListConstruct(%74, %74)
  %78 : int[] = prim::ListConstruct(%73, %73)
  %79 : int[] = prim::ListConstruct(%72, %72)
  %80 : int[] = prim::ListConstruct(%73, %73)
  %y.1 : Float(1, 2, 8, 8, strides=[128, 64, 8, 1], requires_grad=0, device=cpu) = aten::_convolution(%input.7, %up.weight, %up.bias, %77, %78, %79, %71, %80, %72, %70, %70, %71, %71) # /usr/lib/python3/dist-packages/torch/nn/modules/conv.py:956:0
  %22 : Tensor[] = prim::ListConstruct(%y.1, %y.1)
  %23 : int = prim::Constant[value=1]() # model.py:13:0
  %y : Float(1, 4, 8, 8, strides=[256, 64, 8, 1], requires_grad=1, device=cpu) = aten::cat(%22, %23) # model.py:13:0
  %25 : int = prim::Constant[value=0]() # model.py:14:0
  %26 : int = aten::size(%y, %25) # model.py:14:0
  %27 : Long(device=cpu) = prim::NumToTensor(%26)
  %28 : int = aten::Int(%27)
  %29 : int = prim::Constant[value=-1]() # model.py:14:0
  %30 : int[] = prim::ListConstruct(%28, %29)
  %31 : Float(1, 256, strides=[256, 1], requires_grad=1, device=cpu) = aten::view(%y, %30) # model.py:14:0
  %32 : int = prim::Constant[value=0]() # model.py:14:0
  %33 : int = prim::Constant[value=0]() # model.py:14:0
  %34 : int = prim::Constant[value=9223372036854775807]() # model.py:14:0
  %35 : int = prim::Constant[value=1]() # model.py:14:0
  %36 : Float(1, 256, strides=[256, 1], requires_grad=1, device=cpu) = aten::slice(%31, %32, %33, %34, %35) # model.py:14:0
  %37 : int = prim::Constant[value=1]() # model.py:14:0
  %38 : int = prim::Constant[value=0]() # model.py:14:0
  %39 : int = prim::Constant[value=128]() # model.py:14:0
  %40 : int = prim::Constant[value=1]() # model.py:14:0
  %input.9 : Float(1, 128, strides=[256, 1], requires_grad=1, device=cpu) = aten::slice(%36, %37, %38, %39, %40) # model.py:14:0
  %input : Float(1, 5, strides=[5, 1], requires_grad=1, device=cpu) = aten::linear(%input.9, %fc.weight, %fc.bias) # /usr/lib/python3/dist-packages/torch/nn/modules/linear.py:114:0
  %43 : float = prim::Constant[value=0.10000000000000001]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:1252:0
  %44 : bool = prim::Constant[value=0]() # /usr/lib/python3/dist-packages/torch/nn/functional.py:1252:0
  %45 : Float(1, 5, strides=[5, 1], requires_grad=1, device=cpu) = aten::dropout(%input, %43, %44) # /usr/lib/python3/dist-packages/torch/nn/functional.py:1252:0
  %46 : int = prim::Constant[value=1]() # model.py:15:0
  %47 : int = aten::size(%input.9, %46) # model.py:15:0
  %48 : Long(device=cpu) = prim::NumToTensor(%47)
  %49 : (Float(1, 5, strides=[5, 1], requires_grad=1, device=cpu), Long(device=cpu)) = prim::TupleConstruct(%45, %48)
  return (%49)

