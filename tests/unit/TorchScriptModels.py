# Writes the TorchScript models the TorchScript import/export tests read (run by the genrule
# //tests/unit:torchscript_models with Debian's /usr/bin/python3, which has torch 1.13):
# traced and scripted torch.nn models as a PyTorch user would save them. Usage:
#   /usr/bin/python3 TorchScriptModels.py <output folder>
# Weights come from a fixed seed; the tests compare modules with each other, never with numbers
# written here.
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.fc = nn.Linear(16 * 4 * 4, 10)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        x = self.pool(self.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.drop(self.fc(x))


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNetStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(BasicBlock(4, 8, stride=2), BasicBlock(8, 8))

    def forward(self, x):
        return self.layer1(x)


class Attention(nn.Module):
    """A transformer encoder block written out (no fused fast path)."""

    def __init__(self, dim=16, heads=2):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(2 * dim, dim)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) / 2.0, dim=-1)
        y = torch.matmul(attn, v).transpose(1, 2).reshape(b, t, d)
        x = self.norm1(x + self.proj(y))
        return self.norm2(x + self.fc2(self.act(self.fc1(x))))


class Convs(nn.Module):
    """Every kind of convolution the importer names from aten::_convolution."""

    def __init__(self):
        super().__init__()
        self.conv1d = nn.Conv1d(4, 4, 3, padding=1)
        self.up = nn.ConvTranspose2d(4, 2, 2, stride=2)
        self.conv3d = nn.Conv3d(1, 2, 3, padding=1, groups=1)

    def forward(self, x):
        y = self.conv1d(x.flatten(2))
        z = self.up(y.reshape(x.shape))
        return self.conv3d(z.unsqueeze(1)), z


class DataDependentIf(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return torch.relu(x)
        return x


class Loop(nn.Module):
    def forward(self, x):
        for _ in range(x.size(0)):
            x = x * 2
        return x


def main():
    out = sys.argv[1]
    torch.manual_seed(7)

    def save(module, name):
        module.save(os.path.join(out, name))

    cnn = SmallCNN().eval()
    # Non-trivial batch-norm statistics, so that a wrong buffer shows.
    for bn in [cnn.bn1]:
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    save(torch.jit.trace(cnn, torch.randn(1, 3, 16, 16)), "traced_cnn.pt")
    save(torch.jit.script(cnn), "scripted_cnn.pt")

    stage = ResNetStage().eval()
    save(torch.jit.trace(stage, torch.randn(1, 4, 8, 8)), "traced_resnet.pt")
    save(torch.jit.script(stage), "scripted_resnet.pt")

    attention = Attention().eval()
    save(torch.jit.trace(attention, torch.randn(2, 5, 16)), "traced_attention.pt")

    convs = Convs().eval()
    save(torch.jit.trace(convs, torch.randn(1, 4, 3, 3)), "traced_convs.pt")

    save(torch.jit.script(DataDependentIf()), "scripted_if.pt")
    save(torch.jit.script(Loop()), "scripted_loop.pt")


if __name__ == "__main__":
    main()
