# A scripted `if x.sum() > 0: x = relu(x)`: the branch depends on the input.
graph(%x : Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu)):
  %none : NoneType = prim::Constant()
  %zero : int = prim::Constant[value=0]()
  %s : Tensor = aten::sum(%x, %none)
  %c : Tensor = aten::gt(%s, %zero)
  %b : bool = aten::Bool(%c)
  %y : Tensor = prim::If(%b)
    block0():
      %r : Tensor = aten::relu(%x)
      -> (%r)
    block1():
      -> (%x)
  return (%y)
