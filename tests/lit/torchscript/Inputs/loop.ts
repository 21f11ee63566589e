# A scripted `for _ in range(x.size(0)): x = x * 2`.
graph(%x.1 : Tensor):
  %true : bool = prim::Constant[value=1]()
  %zero : int = prim::Constant[value=0]()
  %two : int = prim::Constant[value=2]()
  %n : int = aten::size(%x.1, %zero)
  %x : Tensor = prim::Loop(%n, %true, %x.1)
    block0(%i : int, %x.2 : Tensor):
      %x.3 : Tensor = aten::mul(%x.2, %two)
      -> (%true, %x.3)
  return (%x)
