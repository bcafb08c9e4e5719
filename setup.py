from setuptools import find_packages, setup

setup(
    name='tilery',
    version='0.1.0',
    description='A Girder-compatible server for large images and annotations',
    python_requires='>=3.11',
    package_dir={'': 'server'},
    packages=find_packages('server'),
    include_package_data=True,
    package_data={'tilery': ['**/*.json']},
    install_requires=[
        'cherrypy>=18.10',
        'pymongo>=4.6',
        'jsonschema>=4.20',
        'bcrypt>=4.1',
        'SecantusDB==0.7.0b3',
        'orjson>=3.9',
        'ijson>=3.2',
        'numpy>=1.26',
        'pillow>=10',
        'psutil>=5.9',
        'large-image[tiff,memcached]>=1.35',
        'large-image-source-openslide>=1.35',
        'large-image-source-pil>=1.35',
        'large-image-converter>=1.35',
        'pyvips-binary',
        'scikit-image>=0.22',
        'cachetools>=5.3',
        'prometheus_client>=0.20',
        'celery[redis]>=5.4',  # jobs on `tilery worker` processes (jobs.broker_url)
    ],
    extras_require={
        'test': ['pytest>=8', 'girder-client>=5.0', 'requests', 'iidfile',
                 'openapi-spec-validator', 'schemathesis==4.32.5',
                 'radon>=6'],  # plugin_tests/test_code_shape.py: cyclomatic complexity
    },
    entry_points={
        'console_scripts': ['tilery = tilery.cli:main'],
        'tilery.plugins': [
            'large_image = tilery.plugins.large_image:plugin',
            'annotation = tilery.plugins.annotation:plugin',
            'labels = tilery.plugins.labels:plugin',
            'tagging = tilery.plugins.tagging:plugin',
        ],
    },
)
