# The CLIP of the real (COCO / LVIS) configs: OpenAI's RN50 through open_clip,
# read from this local file only (no download at run time; README.md says how
# to get it). tools/embed_vocabulary.py embeds a config's class names with it
# (prompt ensemble `templates`), tools/infer.py embeds user texts with it.
clip = dict(name='RN50-quickgelu', checkpoint='checkpoints/clip/RN50-openai.pt',
            templates='imagenet80')
